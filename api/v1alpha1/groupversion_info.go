// Package v1alpha1 contains the jetway.dev/v1alpha1 API: Extension,
// ExtensionPlan and Organization.
// +kubebuilder:object:generate=true
// +groupName=jetway.dev
package v1alpha1

import (
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/scheme"
)

var (
	// GroupVersion is the group and version of every Jetway resource.
	GroupVersion = schema.GroupVersion{Group: "jetway.dev", Version: "v1alpha1"}

	// SchemeBuilder registers the Jetway types with a runtime.Scheme.
	SchemeBuilder = &scheme.Builder{GroupVersion: GroupVersion}

	// AddToScheme adds the Jetway types to a scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)
