package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Meters are what a billing item charges for.
const (
	// MeterMachine is machine running time, by guest size and region.
	MeterMachine = "machine"
	// MeterVolume is volume GB-time: how long a volume of a size existed,
	// by size and region, priced per GB-hour.
	MeterVolume = "volume"
)

// BillingDaySpec is one organization's usage on one closed UTC day, as
// Fly's billing pull is answered for it. It is written once, when the day
// is closed, and never changes: the API server refuses any edit.
// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="a published billing day never changes"
type BillingDaySpec struct {
	// organizationID is the Fly organization billed.
	// +required
	// +kubebuilder:validation:MinLength=1
	OrganizationID string `json:"organizationID,omitempty"`
	// date is the UTC day, YYYY-MM-DD.
	// +required
	// +kubebuilder:validation:MinLength=10
	// +kubebuilder:validation:Pattern=`^[0-9]{4}-[0-9]{2}-[0-9]{2}$`
	Date string `json:"date,omitempty"`
	// currency is the ISO 4217 code of every amount.
	// +required
	// +kubebuilder:validation:MinLength=3
	// +kubebuilder:validation:Pattern=`^[A-Z]{3}$`
	Currency string `json:"currency,omitempty"`
	// totalMicros is the sum of the items' amounts.
	// +required
	// +kubebuilder:validation:Minimum=0
	TotalMicros int64 `json:"totalMicros"`
	// unprovenSeconds is machine time, and volume time, that day Fly's
	// history could not prove either way, and so was not billed.
	// +optional
	// +kubebuilder:validation:Minimum=0
	UnprovenSeconds int64 `json:"unprovenSeconds,omitempty"`
	// closedAt is when the day was published.
	// +required
	ClosedAt metav1.Time `json:"closedAt,omitzero"`
	// items are the day's charges, one per extension, meter, size, region
	// and price, in a stable order.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=100000
	Items []BillingItem `json:"items,omitempty"`
}

// BillingItem is one charge of a day.
type BillingItem struct {
	// extensionID is the Fly resource id.
	// +required
	// +kubebuilder:validation:MinLength=1
	ExtensionID string `json:"extensionID,omitempty"`
	// extensionName is the extension's name.
	// +optional
	ExtensionName string `json:"extensionName,omitempty"`
	// meter is what is charged for: machine (running time) or volume
	// (GB-time).
	// +required
	// +kubebuilder:validation:MinLength=1
	Meter string `json:"meter,omitempty"`
	// size is the Fly guest size of a machine item, such as
	// shared-cpu-1x, or the size of a volume item's volumes, such as 10GB.
	// +optional
	Size string `json:"size,omitempty"`
	// region is the Fly region.
	// +optional
	Region string `json:"region,omitempty"`
	// quantitySeconds is the time charged, in whole seconds: a machine
	// item's running time, a volume item's time in existence.
	// +required
	// +kubebuilder:validation:Minimum=0
	QuantitySeconds int64 `json:"quantitySeconds"`
	// quantityGBSeconds is what a volume item charges for: quantitySeconds
	// × its size in GB. Machine items have none.
	// +optional
	// +kubebuilder:validation:Minimum=0
	QuantityGBSeconds int64 `json:"quantityGBSeconds,omitempty"`
	// unitPriceMicrosPerHour is the price of an hour: of a machine
	// running, or of one GB of volume.
	// +required
	// +kubebuilder:validation:Minimum=0
	UnitPriceMicrosPerHour int64 `json:"unitPriceMicrosPerHour"`
	// amountMicros is quantitySeconds (quantityGBSeconds for a volume
	// item) × unitPriceMicrosPerHour / 3600, rounded down to a whole
	// micro-unit.
	// +required
	// +kubebuilder:validation:Minimum=0
	AmountMicros int64 `json:"amountMicros"`
}

// BillingDay is an organization's published usage for one closed UTC day,
// named by its date in the organization's namespace.
// +kubebuilder:object:root=true
// +kubebuilder:resource:shortName=billday,categories=jetway
// +kubebuilder:printcolumn:name="Organization",type=string,JSONPath=`.spec.organizationID`
// +kubebuilder:printcolumn:name="Date",type=string,JSONPath=`.spec.date`
// +kubebuilder:printcolumn:name="Currency",type=string,JSONPath=`.spec.currency`
// +kubebuilder:printcolumn:name="Total Micros",type=integer,JSONPath=`.spec.totalMicros`
// +kubebuilder:printcolumn:name="Closed",type=date,JSONPath=`.spec.closedAt`
type BillingDay struct {
	metav1.TypeMeta `json:",inline"`
	// metadata is the standard object metadata.
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec is the published day.
	// +required
	Spec BillingDaySpec `json:"spec,omitzero"`
}

// BillingDayList is a list of BillingDays.
// +kubebuilder:object:root=true
type BillingDayList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []BillingDay `json:"items"`
}

func init() {
	knownTypes = append(knownTypes, &BillingDay{}, &BillingDayList{})
}
