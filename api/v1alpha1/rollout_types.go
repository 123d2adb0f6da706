package v1alpha1

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
	MaxUnavailable *int32 `json:"maxUnavailable,omitempty"`

	// healthTimeoutSeconds is how long a changed machine has to pass all
	// its checks. One that has not by then fails the change: the
	// extension's rollout pauses there, leaving the machines not yet
	// changed on the old config.
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=86400
	// +kubebuilder:default=300
	HealthTimeoutSeconds *int32 `json:"healthTimeoutSeconds,omitempty"`

	// maxExtensionsInFlight is how many of the plan's extensions may be
	// changing at once.
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=10000
	// +kubebuilder:default=5
	MaxExtensionsInFlight *int32 `json:"maxExtensionsInFlight,omitempty"`

	// maxFailedExtensions is the fleet's health gate: once this many of the
	// plan's extensions have paused on the plan's current generation, no
	// other extension starts changing to it. A new generation of the plan
	// (a fix or a revert) opens the gate again.
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=10000
	// +kubebuilder:default=2
	MaxFailedExtensions *int32 `json:"maxFailedExtensions,omitempty"`
}

// Rollout defaults: the API server fills them in; Limits fills them in for
// plans written before they existed.
const (
	DefaultMaxUnavailable        = 1
	DefaultHealthTimeoutSeconds  = 300
	DefaultMaxExtensionsInFlight = 5
	DefaultMaxFailedExtensions   = 2
)

// RolloutLimits are a plan's rollout settings with every default filled in.
//
//nolint:kubeapilinter // in-memory helper type: no CRD includes it and it is never serialized.
type RolloutLimits struct {
	MaxUnavailable, MaxExtensionsInFlight, MaxFailedExtensions int
	HealthTimeoutSeconds                                       int
}

// Limits is r with every unset limit at its default; r may be nil.
func (r *RolloutSpec) Limits() RolloutLimits {
	pick := func(v *int32, d int) int {
		if v == nil || *v <= 0 {
			return d
		}
		return int(*v)
	}
	if r == nil {
		r = &RolloutSpec{}
	}
	return RolloutLimits{
		MaxUnavailable:        pick(r.MaxUnavailable, DefaultMaxUnavailable),
		MaxExtensionsInFlight: pick(r.MaxExtensionsInFlight, DefaultMaxExtensionsInFlight),
		MaxFailedExtensions:   pick(r.MaxFailedExtensions, DefaultMaxFailedExtensions),
		HealthTimeoutSeconds:  pick(r.HealthTimeoutSeconds, DefaultHealthTimeoutSeconds),
	}
}

// ConditionRolledOut is True when every machine of the extension runs its
// desired config and serves. When False, its reason is the rollout's
// state: RolloutProgressing, RolloutWaiting or RolloutPaused. It is not
// part of Ready: an extension waiting for its turn still serves.
const ConditionRolledOut = "RolledOut"

// Rollout states, the reasons of ConditionRolledOut.
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
// config; the RolledOut condition says what the rollout is doing.
type RolloutStatus struct {
	// planGeneration is the generation of the plan the machines are being
	// brought to.
	// +optional
	// +kubebuilder:validation:Minimum=0
	PlanGeneration *int64 `json:"planGeneration,omitempty"`

	// updatedMachines is how many of the extension's machines run the
	// desired config.
	// +optional
	// +kubebuilder:validation:Minimum=0
	UpdatedMachines *int32 `json:"updatedMachines,omitempty"`

	// machines is how many machines the extension should have.
	// +optional
	// +kubebuilder:validation:Minimum=0
	Machines *int32 `json:"machines,omitempty"`

	// progress is updatedMachines/machines, for kubectl's column.
	// +optional
	// +kubebuilder:validation:MaxLength=16
	Progress *string `json:"progress,omitempty"`
}
