package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// RolloutSpec says how a change of a plan (image, guest size, storage,
// services, env) reaches the machines that run it: one extension's machines
// one at a time, replicas before the primary, each healthy before the
// next; and across the plan's extensions a bounded number at once, stopping
// when several fail. See docs/rollouts.md.
type RolloutSpec struct {
	// maxUnavailable is how many machines of one extension may be out of
	// service at once while it changes: updated and not yet passing their
	// checks, or not running for another reason.
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=100
	// +kubebuilder:default=1
	MaxUnavailable int32 `json:"maxUnavailable,omitempty"`

	// healthTimeout is how long a changed machine has to pass all its checks.
	// One that has not by then fails the change: the extension's rollout
	// pauses there, leaving the machines not yet changed on the old config.
	// +optional
	// +kubebuilder:default="5m"
	HealthTimeout *metav1.Duration `json:"healthTimeout,omitempty"`

	// maxExtensionsInFlight is how many of the plan's extensions may be
	// changing at once.
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=10000
	// +kubebuilder:default=5
	MaxExtensionsInFlight int32 `json:"maxExtensionsInFlight,omitempty"`

	// maxFailedExtensions is the fleet's health gate: once this many of the
	// plan's extensions have paused on the plan's current generation, no
	// other extension starts changing to it. A new generation of the plan
	// (a fix or a revert) opens the gate again.
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=10000
	// +kubebuilder:default=2
	MaxFailedExtensions int32 `json:"maxFailedExtensions,omitempty"`
}

// Rollout defaults: the API server fills them in; Limits fills them in for
// plans written before they existed.
const (
	DefaultMaxUnavailable        = 1
	DefaultMaxExtensionsInFlight = 5
	DefaultMaxFailedExtensions   = 2
)

// Limits is r with every unset limit at its default.
func (r RolloutSpec) Limits() (maxUnavailable, maxInFlight, maxFailed int) {
	pick := func(v int32, d int) int {
		if v <= 0 {
			return d
		}
		return int(v)
	}
	return pick(r.MaxUnavailable, DefaultMaxUnavailable), pick(r.MaxExtensionsInFlight, DefaultMaxExtensionsInFlight),
		pick(r.MaxFailedExtensions, DefaultMaxFailedExtensions)
}

// Rollout phases.
const (
	// RolloutComplete: every machine runs the desired config and passes its
	// checks.
	RolloutComplete = "Complete"
	// RolloutProgressing: machines are being changed one step at a time.
	RolloutProgressing = "Progressing"
	// RolloutWaiting: machines need changing, but the fleet has no room for
	// another extension to change (maxExtensionsInFlight), or its health
	// gate is closed (maxFailedExtensions).
	RolloutWaiting = "Waiting"
	// RolloutPaused: a changed machine failed its checks; the rest stay on
	// the old config until the plan changes again or the machine recovers.
	RolloutPaused = "Paused"
)

// RolloutStatus is how far the extension's machines are on their desired
// config.
type RolloutStatus struct {
	// phase is Complete, Progressing, Waiting or Paused.
	// +optional
	// +kubebuilder:validation:Enum=Complete;Progressing;Waiting;Paused
	Phase string `json:"phase,omitempty"`

	// planGeneration is the generation of the plan the machines are being
	// brought to.
	// +optional
	PlanGeneration int64 `json:"planGeneration,omitempty"`

	// updated is how many of the extension's machines run the desired
	// config.
	// +optional
	Updated int32 `json:"updated,omitempty"`

	// total is how many machines the extension has.
	// +optional
	Total int32 `json:"total,omitempty"`

	// progress is updated/total, for kubectl's column.
	// +optional
	// +kubebuilder:validation:MaxLength=16
	Progress string `json:"progress,omitempty"`

	// message says what the rollout is doing or waiting for.
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	Message string `json:"message,omitempty"`
}
