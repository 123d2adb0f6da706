package v1alpha1

// StorageSpec is the persistent storage each machine of a plan gets: a Fly
// volume of its own, in its region, mounted at mountPath. A volume holds
// one machine's data (Fly attaches a volume to one machine at a time), so
// replication between a primary and its replicas is the service's own.
type StorageSpec struct {
	// sizeGB is each volume's size in gigabytes. A plan change may grow it
	// (volumes are extended in place); Fly cannot shrink a volume, so a
	// smaller size is refused on the extension, never carried out.
	// +required
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=500
	SizeGB int32 `json:"sizeGB,omitempty"`

	// mountPath is where the volume is mounted in the machine.
	// +required
	// +kubebuilder:validation:MinLength=2
	// +kubebuilder:validation:MaxLength=256
	// +kubebuilder:validation:Pattern=`^/[^\x00]*$`
	MountPath string `json:"mountPath,omitempty"`

	// snapshotRetentionDays is how long Fly keeps each volume's snapshots,
	// the final one taken at deprovisioning included.
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=60
	// +kubebuilder:default=5
	SnapshotRetentionDays *int32 `json:"snapshotRetentionDays,omitempty"`
}
