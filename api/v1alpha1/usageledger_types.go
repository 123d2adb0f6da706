package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// UsageLedgerSpec is the meter's record of what one extension's machines
// ran on Fly, and how long its volumes existed: the running time Fly's own
// event history proves, and the volume time Fly's lists prove, priced when
// it was used. It is spec, not status, because it cannot be rebuilt: Fly lists
// only a machine's recent events and forgets destroyed machines, so this
// record must survive anything that may drop status (a backup restored, a
// status wipe). The Extension controller's meter appends to it on every
// look; the billing controller publishes each closed day into a BillingDay
// and then drops that day's usage from here (docs/billing.md).
type UsageLedgerSpec struct {
	// extensionID is the Fly resource id of the metered extension.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="extensionID is immutable"
	ExtensionID string `json:"extensionID,omitempty"`
	// extensionName is the extension's name, as billing items show it.
	// +optional
	ExtensionName string `json:"extensionName,omitempty"`
	// organizationID is the Fly organization the usage is billed to.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="organizationID is immutable"
	OrganizationID string `json:"organizationID,omitempty"`
	// openFrom is the first UTC day (YYYY-MM-DD) this ledger holds usage
	// for. Days before it are published as BillingDays, or were before
	// metering began; usage before it is never recorded again.
	// +required
	// +kubebuilder:validation:MinLength=10
	// +kubebuilder:validation:Pattern=`^[0-9]{4}-[0-9]{2}-[0-9]{2}$`
	OpenFrom string `json:"openFrom,omitempty"`
	// deletedAt is when the extension was deprovisioned, its final usage
	// recorded. The ledger is removed once every day through it is
	// published.
	// +optional
	DeletedAt *metav1.MicroTime `json:"deletedAt,omitempty"`
	// machines is the usage of each machine the extension has had since
	// openFrom.
	// +optional
	// +listType=map
	// +listMapKey=id
	// +kubebuilder:validation:MaxItems=512
	Machines []MachineUsage `json:"machines,omitempty"`
	// volumes is the existence of each Fly volume the extension's app has
	// had since openFrom (volumeusage_types.go).
	// +optional
	// +listType=map
	// +listMapKey=id
	// +kubebuilder:validation:MaxItems=512
	Volumes []VolumeUsage `json:"volumes,omitempty"`
}

// MachineUsage is what Fly's event history proves about one machine.
type MachineUsage struct {
	// id is Fly's machine id.
	// +required
	// +kubebuilder:validation:MinLength=1
	ID string `json:"id,omitempty"`
	// region is the Fly region the machine runs in.
	// +optional
	Region string `json:"region,omitempty"`
	// lastEvent is the newest of the machine's Fly events already metered:
	// events up to it are never metered again, however often they are
	// listed.
	// +optional
	LastEvent *MeteredEvent `json:"lastEvent,omitempty"`
	// provenThrough is how far the machine's state is known: its last
	// event, or a later look that found it unchanged.
	// +optional
	ProvenThrough *metav1.MicroTime `json:"provenThrough,omitempty"`
	// goneAt is when the machine was found destroyed; its usage is final.
	// +optional
	GoneAt *metav1.MicroTime `json:"goneAt,omitempty"`
	// segments are the proven running intervals, oldest first. While the
	// machine runs, the last one ends at provenThrough.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=20000
	Segments []UsageSegment `json:"segments,omitempty"`
	// gaps are intervals Fly's history no longer covers (events rolled
	// off between two looks): never billed, and reported on the
	// extension's UsageProven condition.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=1000
	Gaps []UsageGap `json:"gaps,omitempty"`
}

// MeteredEvent is the cursor into a machine's Fly event history. Fly
// timestamps are milliseconds and fly-go does not model event ids, so an
// event is known by its time and its place among events of the same time.
type MeteredEvent struct {
	// at is the event's Fly timestamp.
	// +required
	At metav1.MicroTime `json:"at"`
	// seen is how many events with exactly this timestamp are metered.
	// +required
	// +kubebuilder:validation:Minimum=1
	Seen int32 `json:"seen"`
	// status is the state the event left the machine in.
	// +required
	// +kubebuilder:validation:MinLength=1
	Status string `json:"status"`
}

// UsageSegment is an interval a machine was running, at one size and
// price.
type UsageSegment struct {
	// from is when the machine started running (Fly's event time), or when
	// the price or size last changed.
	// +required
	From metav1.MicroTime `json:"from"`
	// to is when it stopped running, or how far a look has proven it still
	// runs.
	// +required
	To metav1.MicroTime `json:"to"`
	// size is the Fly guest size it ran at, such as shared-cpu-1x.
	// +required
	// +kubebuilder:validation:MinLength=1
	Size string `json:"size"`
	// unitPriceMicrosPerHour is what an hour of it costs.
	// +required
	// +kubebuilder:validation:Minimum=0
	UnitPriceMicrosPerHour int64 `json:"unitPriceMicrosPerHour"`
}

// UsageGap is an interval whose machine state Fly's history cannot prove.
type UsageGap struct {
	// from is the last moment the machine's state was proven.
	// +required
	From metav1.MicroTime `json:"from"`
	// to is the oldest event Fly still listed.
	// +required
	To metav1.MicroTime `json:"to"`
}

// UsageLedger is the meter's durable record of one extension's machine
// time: what a new leader needs to go on metering where the last one
// stopped. Named after the extension's Fly app, in its organization's
// namespace; it outlives the extension until its last day is published.
// +kubebuilder:object:root=true
// +kubebuilder:resource:shortName=usage,categories=jetway
// +kubebuilder:printcolumn:name="Extension",type=string,JSONPath=`.spec.extensionName`
// +kubebuilder:printcolumn:name="Organization",type=string,JSONPath=`.spec.organizationID`
// +kubebuilder:printcolumn:name="Open From",type=string,JSONPath=`.spec.openFrom`
// +kubebuilder:printcolumn:name="Deleted",type=date,JSONPath=`.spec.deletedAt`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type UsageLedger struct {
	metav1.TypeMeta `json:",inline"`
	// metadata is the standard object metadata.
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec is the record itself.
	// +required
	Spec UsageLedgerSpec `json:"spec,omitzero"`
}

// UsageLedgerList is a list of UsageLedgers.
// +kubebuilder:object:root=true
type UsageLedgerList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []UsageLedger `json:"items"`
}

func init() {
	knownTypes = append(knownTypes, &UsageLedger{}, &UsageLedgerList{})
}
