package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// VolumeUsage is what Jetway has seen of one Fly volume of an extension's
// app. A volume exists without a break from Fly's createdAt until it is
// destroyed, so every sighting (a list of the app's volumes, or a look at
// the machine it is bound to, which Fly will not let it outlive) proves it
// existed up to that moment. Fly keeps no record of destroyed volumes:
// the end is when Jetway asked Fly to destroy it, or, for a volume that
// left the list without that, when it was last seen (docs/billing.md).
type VolumeUsage struct {
	// id is Fly's volume id.
	// +required
	// +kubebuilder:validation:MinLength=1
	ID string `json:"id,omitempty"`
	// name is the volume's Fly name, such as data_primary_iad.
	// +optional
	Name string `json:"name,omitempty"`
	// region is the Fly region the volume lives in.
	// +optional
	Region string `json:"region,omitempty"`
	// createdAt is when Fly says the volume was created: its time is
	// billed from there, even when Jetway first saw it later (a create
	// whose answer was lost).
	// +required
	CreatedAt metav1.MicroTime `json:"createdAt"`
	// machine is the machine the volume was bound to when last seen, ""
	// for none. A bound volume is proven by every look at its machine; an
	// unbound one only by a list of the app's volumes.
	// +optional
	Machine string `json:"machine,omitempty"`
	// provenThrough is when the volume was last seen to exist, or when
	// Jetway asked Fly to destroy it.
	// +optional
	ProvenThrough *metav1.MicroTime `json:"provenThrough,omitempty"`
	// goneAt is when the volume's usage became final: when Jetway asked
	// Fly to destroy it, or when a list of the app's volumes no longer
	// showed it. A volume seen again after that was not destroyed, and is
	// metered on.
	// +optional
	GoneAt *metav1.MicroTime `json:"goneAt,omitempty"`
	// segments are the proven intervals of existence, oldest first, one per
	// size and price. While the volume exists, the last one ends at
	// provenThrough.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=1000
	Segments []VolumeSegment `json:"segments,omitempty"`
}

// VolumeSegment is an interval a volume existed at one size and price.
type VolumeSegment struct {
	// from is when the volume was created, or when Jetway saw its size or
	// its plan's price change.
	// +required
	From metav1.MicroTime `json:"from"`
	// to is how far the volume is proven to have existed at this size.
	// +required
	To metav1.MicroTime `json:"to"`
	// sizeGB is the volume's size in gigabytes, as Fly listed it.
	// +required
	// +kubebuilder:validation:Minimum=0
	SizeGB int32 `json:"sizeGB"`
	// unitPriceMicrosPerGBHour is what a GB of it costs an hour.
	// +required
	// +kubebuilder:validation:Minimum=0
	UnitPriceMicrosPerGBHour int64 `json:"unitPriceMicrosPerGBHour"`
}
