package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// OrganizationSpec mirrors a Fly organization on the provider side.
type OrganizationSpec struct {
	// id is Fly's organization id.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=128
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="id is immutable"
	ID string `json:"id"`

	// displayName is the organization's display name on Fly.
	// +optional
	DisplayName string `json:"displayName,omitempty"`

	// members are the Fly users known to the provider, recorded on
	// provisioning and on SSO sign-in.
	// +optional
	// +listType=map
	// +listMapKey=userID
	Members []Member `json:"members,omitempty"`

	// quota bounds what Fly may provision for this organization, over every
	// plan, overriding the provider-wide --org-max-extensions and
	// --org-max-machines. Set by an operator; the gateway never writes it.
	// +optional
	Quota *Quota `json:"quota,omitempty"`
}

// Quota bounds an organization's extensions and machines. An unset or
// zero bound is no bound.
type Quota struct {
	// maxExtensions is the most extensions at once.
	// +optional
	// +kubebuilder:validation:Minimum=0
	MaxExtensions *int32 `json:"maxExtensions,omitempty"`
	// maxMachines is the most machines at once: each extension has one
	// primary and one replica per read region.
	// +optional
	// +kubebuilder:validation:Minimum=0
	MaxMachines *int32 `json:"maxMachines,omitempty"`
}

// Member is a Fly user in an organization.
type Member struct {
	// userID is Fly's user id.
	// +kubebuilder:validation:MinLength=1
	UserID string `json:"userID"`
	// email is Fly's stable email alias for the user.
	// +optional
	Email string `json:"email,omitempty"`
	// role is admin or member.
	// +kubebuilder:validation:Enum=admin;member
	Role string `json:"role"`
}

// OrganizationStatus is what the Organization controller did.
type OrganizationStatus struct {
	// conditions are the organization's conditions: Ready is True once
	// the organization's namespace is written.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
	// observedGeneration is the generation whose namespace the Organization
	// controller last wrote. -1 until it first has.
	// +kubebuilder:default=-1
	// +optional
	ObservedGeneration int64 `json:"observedGeneration"`
	// namespace holds this organization's extensions.
	// +optional
	Namespace string `json:"namespace,omitempty"`
	// memberCount is the number of recorded members.
	// +optional
	MemberCount int `json:"memberCount,omitempty"`
	// usage is what the organization's extensions cost today and
	// yesterday, written by the billing controller.
	// +optional
	Usage *OrganizationUsage `json:"usage,omitempty"`
}

// OrganizationUsage summarises an organization's bill for people; Fly
// reads the full figures from the billing API.
type OrganizationUsage struct {
	// currency is the ISO 4217 code of the amounts.
	// +required
	Currency string `json:"currency"`
	// todayMicros is today's usage so far (UTC).
	// +required
	TodayMicros int64 `json:"todayMicros"`
	// yesterdayMicros is yesterday's usage (UTC), final once published.
	// +required
	YesterdayMicros int64 `json:"yesterdayMicros"`
	// today is todayMicros for people, such as "1.234567 USD".
	// +required
	Today string `json:"today"`
	// yesterday is yesterdayMicros for people.
	// +required
	Yesterday string `json:"yesterday"`
	// closedThrough is the last UTC day (YYYY-MM-DD) through which every
	// day is closed: published as a BillingDay, or with no usage to
	// publish. Fly is answered final figures for those days only.
	// +optional
	ClosedThrough string `json:"closedThrough,omitempty"`
	// updatedAt is when these figures were computed.
	// +required
	UpdatedAt metav1.Time `json:"updatedAt"`
}

// Organization is the provider-side account of a Fly organization.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Cluster,shortName=flyorg,categories=jetway
// +kubebuilder:printcolumn:name="Fly ID",type=string,JSONPath=`.spec.id`
// +kubebuilder:printcolumn:name="Display Name",type=string,JSONPath=`.spec.displayName`
// +kubebuilder:printcolumn:name="Namespace",type=string,JSONPath=`.status.namespace`
// +kubebuilder:printcolumn:name="Members",type=integer,JSONPath=`.status.memberCount`
// +kubebuilder:printcolumn:name="Today",type=string,JSONPath=`.status.usage.today`
// +kubebuilder:printcolumn:name="Yesterday",type=string,JSONPath=`.status.usage.yesterday`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type Organization struct {
	metav1.TypeMeta `json:",inline"`
	// metadata is the standard object metadata.
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec mirrors the Fly organization on the provider side.
	Spec OrganizationSpec `json:"spec"`
	// status is what the Organization controller did.
	// +kubebuilder:default:={"observedGeneration":-1}
	Status OrganizationStatus `json:"status,omitempty"`
}

// OrganizationList is a list of Organizations.
// +kubebuilder:object:root=true
type OrganizationList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Organization `json:"items"`
}

func init() {
	knownTypes = append(knownTypes, &Organization{}, &OrganizationList{})
}
