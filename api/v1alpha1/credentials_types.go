package v1alpha1

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// Credential rotation (docs/credentials.md). An operator asks for new
// credentials by setting AnnotationRotateCredentials to a new value (`jetway
// rotate` does). The Extension controller then:
//
//  1. issues a new password, keeping the old one as the previous, in the
//     credentials Secret, in one write;
//  2. sets both as the Fly app's secrets and restarts the machines onto
//     them, so every machine accepts either;
//  3. once every machine does, asks the notifier to send Fly
//     resource.updated with the new config;
//  4. revokes the previous password once Fly has answered and either an
//     operator confirms it with AnnotationRevokePreviousCredentials (the
//     default) or the plan's overlap window has passed (revokePrevious:
//     AfterOverlap): Fly does not document that it applies an updated
//     config to the customer's app, so by default a person checks first.
//
// Annotations rather than spec fields, as the restore: the spec mirrors
// Fly's provisioning request and is the gateway's, and a rotation is a
// one-off action, not a state to converge on.
const (
	// AnnotationRotateCredentials asks for a rotation; each new value is a
	// new rotation, carried out once. A new rotation waits while the
	// credentials the last one replaced are still valid.
	AnnotationRotateCredentials = "jetway.dev/rotate-credentials"
	// AnnotationRevokePreviousCredentials confirms that the credentials
	// replaced by the rotation it names (the value of
	// AnnotationRotateCredentials) may stop working. It is acted on once Fly
	// has answered the resource.updated carrying the new config.
	AnnotationRevokePreviousCredentials = "jetway.dev/revoke-previous-credentials"
)

// ConditionCredentialsRotated is there once a rotation was asked for: False
// while it runs (its reason says which step), True once the previous
// credentials are revoked everywhere. It is not part of Ready: both
// credentials work throughout.
const ConditionCredentialsRotated = "CredentialsRotated"

// Reasons of ConditionCredentialsRotated.
const (
	// ReasonRollingCredentials: new credentials are issued and set on the
	// Fly app; the machines are restarting onto them, accepting both.
	ReasonRollingCredentials = "RollingCredentials"
	// ReasonAnnouncingCredentials: every machine accepts both; Fly is being
	// sent resource.updated with the new config.
	ReasonAnnouncingCredentials = "AnnouncingCredentials"
	// ReasonAwaitingRevocation: Fly acknowledged the new config; the
	// previous credentials stay valid until an operator confirms, or the
	// plan's overlap window ends.
	ReasonAwaitingRevocation = "AwaitingRevocation"
	// ReasonAnnouncementFailed: Fly refused the resource.updated with the
	// new config, or never acknowledged it; the previous credentials stay
	// valid until an operator confirms, whatever the plan says.
	ReasonAnnouncementFailed = "AnnouncementFailed"
	// ReasonRevokingPrevious: the previous credentials are removed from the
	// Fly app and the machines are restarting without them.
	ReasonRevokingPrevious = "RevokingPrevious"
	// ReasonRotationWaiting: a new rotation was asked for while the
	// credentials the last one replaced are still valid; it starts once
	// they are revoked, so no customer is left holding credentials that
	// stopped working without a check.
	ReasonRotationWaiting = "RotationWaiting"
	// ReasonRotationComplete: only the newest credentials are valid.
	ReasonRotationComplete = "RotationComplete"
)

// Revocation policies of a plan's credential rotation.
const (
	RevokeOnConfirmation = "OnConfirmation"
	RevokeAfterOverlap   = "AfterOverlap"
)

// DefaultRotationOverlapSeconds is the overlap of a plan that sets none: a
// day, long enough for a customer's app to be redeployed with new secrets.
const DefaultRotationOverlapSeconds = 86400

// CredentialRotationSpec says how a plan's extensions retire the
// credentials a rotation replaced.
type CredentialRotationSpec struct {
	// revokePrevious is when the replaced credentials stop working, counted
	// from Fly's acknowledgement of the new config: OnConfirmation (the
	// default) when an operator sets jetway.dev/revoke-previous-credentials;
	// AfterOverlap when overlapSeconds have passed, or an operator confirms
	// sooner.
	// +optional
	// +kubebuilder:validation:Enum=OnConfirmation;AfterOverlap
	// +kubebuilder:default=OnConfirmation
	RevokePrevious *string `json:"revokePrevious,omitempty"`
	// overlapSeconds is how long both credentials stay valid after Fly
	// acknowledged the new config, under AfterOverlap.
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=2592000
	// +kubebuilder:default=86400
	OverlapSeconds *int32 `json:"overlapSeconds,omitempty"`
}

// RevokesAfterOverlap reports whether the plan revokes by itself, and after
// how long.
func (r *CredentialRotationSpec) RevokesAfterOverlap() (bool, int32) {
	if r == nil || r.RevokePrevious == nil || *r.RevokePrevious != RevokeAfterOverlap {
		return false, 0
	}
	if r.OverlapSeconds == nil || *r.OverlapSeconds <= 0 {
		return true, DefaultRotationOverlapSeconds
	}
	return true, *r.OverlapSeconds
}

// CredentialsStatus is how far the last rotation of an extension's
// credentials is. The Extension controller owns it; what Fly answered is
// the notifier's, in status.notification.credentials.
type CredentialsStatus struct {
	// rotation is the jetway.dev/rotate-credentials value last carried out.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	Rotation *string `json:"rotation,omitempty"`
	// revision is the revision of the credentials last set as the Fly
	// app's secrets: random, new at every rotation and revocation. Machines
	// restart onto it (JETWAY_CREDENTIALS_REVISION).
	// +optional
	// +kubebuilder:validation:MaxLength=64
	Revision *string `json:"revision,omitempty"`
	// rotatedAt is when the rotation issued the new credentials.
	// +optional
	RotatedAt *metav1.Time `json:"rotatedAt,omitempty"`
	// announce is the revision whose config Fly must be sent: set once
	// every machine accepts the new credentials.
	// +optional
	// +kubebuilder:validation:MaxLength=64
	Announce *string `json:"announce,omitempty"`
	// previousRevokedAt is when the credentials the rotation replaced were
	// removed from the Fly app.
	// +optional
	PreviousRevokedAt *metav1.Time `json:"previousRevokedAt,omitempty"`
}

// Outcomes of a credentials announcement to Fly.
const (
	AnnouncementAcknowledged = "Acknowledged"
	AnnouncementRejected     = "Rejected"
	AnnouncementAbandoned    = "Abandoned"
)

// CredentialsAnnouncement is what Fly answered the last resource.updated
// that carried rotated credentials.
type CredentialsAnnouncement struct {
	// revision is the credentials revision whose config was sent.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=64
	Revision string `json:"revision,omitempty"`
	// outcome is Acknowledged (a 2xx), Rejected (a 4xx not retried) or
	// Abandoned (no 2xx within the retry window).
	// +required
	// +kubebuilder:validation:Enum=Acknowledged;Rejected;Abandoned
	Outcome string `json:"outcome,omitempty"`
	// at is when Fly answered, or the notifier gave up.
	// +optional
	At *metav1.Time `json:"at,omitempty"`
}
