package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ExtensionPlanSpec says what an extension is: what runs on its machines and
// how the provisioning response's config is rendered. Operators manage plans
// with GitOps; exactly one should be the default.
type ExtensionPlanSpec struct {
	// Default marks the plan used when a request names none.
	// +optional
	Default bool `json:"default,omitempty"`

	// DisplayName is the plan's human name.
	// +optional
	DisplayName string `json:"displayName,omitempty"`

	// Image is the OCI image every machine runs.
	// +kubebuilder:validation:MinLength=1
	Image string `json:"image"`

	// Guest is the machine size.
	// +optional
	Guest GuestSpec `json:"guest,omitempty"`

	// Services are the ports the machines serve; Flycast routes no traffic
	// to an app whose machines have none.
	// +optional
	// +kubebuilder:validation:MaxItems=16
	Services []ServiceSpec `json:"services,omitempty"`

	// Env is set on every machine. Credentials are not: they are app secrets.
	// +optional
	Env map[string]string `json:"env,omitempty"`

	// RestartPolicy is Fly's machine restart policy.
	// +optional
	// +kubebuilder:validation:Enum=no;always;on-failure
	// +kubebuilder:default=always
	RestartPolicy string `json:"restartPolicy,omitempty"`

	// Connection says how the config returned to Fly is rendered.
	Connection ConnectionSpec `json:"connection"`

	// Pricing is what the plan costs, in integer micro-units of Currency.
	// +optional
	Pricing PricingSpec `json:"pricing,omitempty"`
}

// GuestSpec is a Fly machine size.
type GuestSpec struct {
	// +optional
	// +kubebuilder:validation:Enum=shared;performance
	// +kubebuilder:default=shared
	CPUKind string `json:"cpuKind,omitempty"`
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=16
	// +kubebuilder:default=1
	CPUs int `json:"cpus,omitempty"`
	// +optional
	// +kubebuilder:validation:Minimum=256
	// +kubebuilder:validation:Maximum=131072
	// +kubebuilder:default=256
	MemoryMB int `json:"memoryMB,omitempty"`
}

// ServiceSpec is one service of a machine.
type ServiceSpec struct {
	// +kubebuilder:validation:Enum=tcp;udp
	// +kubebuilder:default=tcp
	// +optional
	Protocol string `json:"protocol,omitempty"`
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=65535
	InternalPort int `json:"internalPort"`
	// +kubebuilder:validation:MinItems=1
	Ports []PortSpec `json:"ports"`
	// Autostop lets Fly's proxy stop or suspend idle machines.
	// +optional
	// +kubebuilder:validation:Enum=off;stop;suspend
	// +kubebuilder:default=off
	Autostop string `json:"autostop,omitempty"`
	// Autostart lets Fly's proxy start machines on traffic.
	// +optional
	Autostart bool `json:"autostart,omitempty"`
	// +optional
	// +kubebuilder:validation:Minimum=0
	MinMachinesRunning *int `json:"minMachinesRunning,omitempty"`
	// Checks are the service's health checks.
	// +optional
	Checks []CheckSpec `json:"checks,omitempty"`
}

// PortSpec is one public port of a service.
type PortSpec struct {
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=65535
	Port int `json:"port"`
	// Handlers such as "tls" or "http"; Flycast is plain, so usually none.
	// +optional
	Handlers []string `json:"handlers,omitempty"`
}

// CheckSpec is a health check.
type CheckSpec struct {
	// +kubebuilder:validation:Enum=tcp;http
	Type string `json:"type"`
	// Path is the HTTP path, for http checks.
	// +optional
	Path string `json:"path,omitempty"`
	// +optional
	Interval *metav1.Duration `json:"interval,omitempty"`
	// +optional
	Timeout *metav1.Duration `json:"timeout,omitempty"`
	// +optional
	GracePeriod *metav1.Duration `json:"gracePeriod,omitempty"`
}

// ConnectionSpec renders the config Fly sets as secrets on the customer's app.
type ConnectionSpec struct {
	// Config maps each config key to a Go text/template. The template sees
	// .Username, .Password, .Host (the extension's DNS name), .Port, .Name,
	// .ID, .AppName, .FlycastIP and .PrimaryRegion.
	// Keys must be upper-case environment variable names.
	// +kubebuilder:validation:MinProperties=1
	// +kubebuilder:validation:XValidation:rule="self.all(k, k.matches('^[A-Z][A-Z0-9_]*$'))",message="config keys must be upper-case environment variable names"
	Config map[string]string `json:"config"`
	// Port is the port clients connect to, available to templates as .Port.
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=65535
	Port int `json:"port,omitempty"`
	// Username is the user name put in the credentials; default the
	// extension's name.
	// +optional
	Username string `json:"username,omitempty"`
}

// PricingSpec is a plan's price. Money is integer micro-units: 1 USD = 1,000,000.
type PricingSpec struct {
	// +optional
	// +kubebuilder:default=USD
	// +kubebuilder:validation:Pattern=`^[A-Z]{3}$`
	Currency string `json:"currency,omitempty"`
	// MachineHourMicros is charged per machine per hour it exists.
	// +optional
	// +kubebuilder:validation:Minimum=0
	MachineHourMicros int64 `json:"machineHourMicros,omitempty"`
}

// ExtensionPlanStatus is what the controllers observed about a plan.
type ExtensionPlanStatus struct {
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// ExtensionPlan is what an extension is: image, size, services and prices.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Cluster,shortName=extplan,categories=jetway
// +kubebuilder:printcolumn:name="Default",type=boolean,JSONPath=`.spec.default`
// +kubebuilder:printcolumn:name="Image",type=string,JSONPath=`.spec.image`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type ExtensionPlan struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   ExtensionPlanSpec   `json:"spec"`
	Status ExtensionPlanStatus `json:"status,omitempty"`
}

// ExtensionPlanList is a list of ExtensionPlans.
// +kubebuilder:object:root=true
type ExtensionPlanList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ExtensionPlan `json:"items"`
}

func init() {
	SchemeBuilder.Register(&ExtensionPlan{}, &ExtensionPlanList{})
}
