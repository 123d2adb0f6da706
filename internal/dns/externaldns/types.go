// Package externaldns mirrors external-dns's DNSEndpoint resource
// (externaldns.k8s.io/v1alpha1, kubernetes-sigs/external-dns
// endpoint/endpoint.go) so Jetway can write DNS records that external-dns
// publishes to any DNS provider. Only the fields Jetway uses are typed;
// the generated CRD under config/crd/external is for clusters (and tests)
// that do not run external-dns.
// +kubebuilder:object:generate=true
// +groupName=externaldns.k8s.io
// +versionName=v1alpha1
package externaldns

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

var (
	// GroupVersion is external-dns's API group and version.
	GroupVersion = schema.GroupVersion{Group: "externaldns.k8s.io", Version: "v1alpha1"}
	// SchemeBuilder registers DNSEndpoint.
	SchemeBuilder = runtime.NewSchemeBuilder(addKnownTypes)
	// AddToScheme adds DNSEndpoint to a scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)

// addKnownTypes adds DNSEndpoint and DNSEndpointList, and the meta/v1 types
// every API group serves (such as ListOptions and WatchEvent), to scheme
// under GroupVersion.
func addKnownTypes(scheme *runtime.Scheme) error {
	scheme.AddKnownTypes(GroupVersion, &DNSEndpoint{}, &DNSEndpointList{})
	metav1.AddToGroupVersion(scheme, GroupVersion)
	return nil
}

// Endpoint is one DNS record.
type Endpoint struct {
	// DNSName is the hostname of the record.
	DNSName string `json:"dnsName,omitempty"`
	// Targets are the record's values.
	Targets []string `json:"targets,omitempty"`
	// RecordType is A, AAAA, CNAME, TXT...
	RecordType string `json:"recordType,omitempty"`
	// SetIdentifier distinguishes records of the same name and type.
	// +optional
	SetIdentifier string `json:"setIdentifier,omitempty"`
	// RecordTTL is the record's TTL in seconds.
	// +optional
	RecordTTL int64 `json:"recordTTL,omitempty"`
	// Labels are stored with the record by some providers.
	// +optional
	Labels map[string]string `json:"labels,omitempty"`
}

// DNSEndpointSpec is the list of records.
type DNSEndpointSpec struct {
	Endpoints []*Endpoint `json:"endpoints,omitempty"`
}

// DNSEndpointStatus is written by external-dns.
type DNSEndpointStatus struct {
	// ObservedGeneration is the generation external-dns last published.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
}

// DNSEndpoint is a set of DNS records for external-dns to publish.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:path=dnsendpoints
// +kubebuilder:metadata:annotations="api-approved.kubernetes.io=https://github.com/kubernetes-sigs/external-dns/pull/2007"
type DNSEndpoint struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   DNSEndpointSpec   `json:"spec,omitempty"`
	Status DNSEndpointStatus `json:"status,omitempty"`
}

// DNSEndpointList is a list of DNSEndpoints.
// +kubebuilder:object:root=true
type DNSEndpointList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []DNSEndpoint `json:"items"`
}
