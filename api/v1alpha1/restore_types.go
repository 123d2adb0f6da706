package v1alpha1

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// AnnotationRestoreFromSnapshot, set on an Extension, asks Jetway to
// restore its data from a snapshot: a Fly volume snapshot id ("vs_…") of
// the extension's primary, or RestoreFinal for the final snapshots its
// last deprovisioning kept. Each value is carried out once
// (status.restore); removing the annotation cancels an unfinished restore
// and forgets a finished one, so the same value can be asked for again.
// An annotation rather than a spec field: the spec mirrors Fly's
// provisioning request and is the gateway's, and a restore is a one-off
// action, not a state to converge on. See docs/storage.md.
const AnnotationRestoreFromSnapshot = "jetway.dev/restore-from-snapshot"

// RestoreFinal is the annotation value that restores every machine from
// the final snapshot its volume got when the extension was last
// deprovisioned.
const RestoreFinal = "final"

// RestoreStatus is the restore the annotation asked for: what it restores
// and how far it got. The Restored condition says how it is going.
type RestoreStatus struct {
	// request is the annotation value this restore carries out.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=256
	Request string `json:"request,omitempty"`

	// startedAt is when Jetway took the request up.
	// +required
	StartedAt *metav1.Time `json:"startedAt,omitempty"`

	// completedAt is when the restore finished, or was refused (the
	// Restored condition says which). Unset while it runs.
	// +optional
	CompletedAt *metav1.Time `json:"completedAt,omitempty"`

	// volumes are the machines restored, each from its snapshot.
	// +optional
	// +listType=map
	// +listMapKey=role
	// +listMapKey=region
	// +kubebuilder:validation:MaxItems=33
	Volumes []RestoreVolume `json:"volumes,omitempty"`
}

// RestoreVolume is one machine's restore: the volume made from a snapshot,
// and the volume it replaces.
type RestoreVolume struct {
	// role is the machine's role.
	// +required
	// +kubebuilder:validation:Enum=primary;replica
	Role string `json:"role,omitempty"`

	// region is the machine's Fly region, the snapshot's too: Fly restores
	// a snapshot only in its own region.
	// +required
	// +kubebuilder:validation:MinLength=3
	// +kubebuilder:validation:MaxLength=3
	// +kubebuilder:validation:Pattern=`^[a-z]{3}$`
	Region string `json:"region,omitempty"`

	// snapshotID is the snapshot restored.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=128
	SnapshotID string `json:"snapshotID,omitempty"`

	// sizeGB is the size of the volume made from the snapshot.
	// +required
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=500
	SizeGB int32 `json:"sizeGB,omitempty"`

	// volumeID is the volume made from the snapshot, saved as soon as Fly
	// answers; unset until then.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=64
	VolumeID *string `json:"volumeID,omitempty"`

	// replacedVolumeID is the volume the machine mounted before the
	// restore. It is snapshotted, then destroyed.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=64
	ReplacedVolumeID *string `json:"replacedVolumeID,omitempty"`

	// replacedSnapshotAfter is noted once Fly has released the replaced
	// volume, before it is snapshotted: the creation time, by Fly's clock,
	// of its newest snapshot then (or of the volume, when it had none). A
	// snapshot made after it is the replaced volume's, taken by this
	// restore; a pass that dies after asking for one does not ask again.
	// +optional
	ReplacedSnapshotAfter *metav1.MicroTime `json:"replacedSnapshotAfter,omitempty"`

	// replacedSnapshotID is the snapshot of the replaced volume: restore
	// it to undo this restore.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=128
	ReplacedSnapshotID *string `json:"replacedSnapshotID,omitempty"`
}
