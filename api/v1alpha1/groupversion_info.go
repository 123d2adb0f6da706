// Package v1alpha1 contains the jetway.dev/v1alpha1 API: Extension,
// ExtensionPlan and Organization.
// +kubebuilder:object:generate=true
// +groupName=jetway.dev
package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

var (
	// GroupVersion is the group and version of every Jetway resource.
	GroupVersion = schema.GroupVersion{Group: "jetway.dev", Version: "v1alpha1"}

	// SchemeBuilder registers the Jetway types with a runtime.Scheme.
	SchemeBuilder = runtime.NewSchemeBuilder(addKnownTypes)

	// AddToScheme adds the Jetway types to a scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)

// knownTypes are the Jetway kinds and their lists. Each *_types.go file
// adds its own in init(), before any AddToScheme call can read them.
var knownTypes []runtime.Object

// addKnownTypes adds the Jetway types, and the meta/v1 types every API
// group serves (such as ListOptions and WatchEvent), to scheme under
// GroupVersion.
func addKnownTypes(scheme *runtime.Scheme) error {
	scheme.AddKnownTypes(GroupVersion, knownTypes...)
	metav1.AddToGroupVersion(scheme, GroupVersion)
	return nil
}
