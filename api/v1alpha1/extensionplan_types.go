package v1alpha1

import (
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ExtensionPlanSpec says what an extension is: what runs on its machines and
// how the provisioning response's config is rendered. Operators manage plans
// with GitOps; exactly one should be the default.
// +kubebuilder:validation:XValidation:rule="has(self.storage) || !has(oldSelf.storage)",message="storage cannot be removed from a plan: its extensions' data is on those volumes"
type ExtensionPlanSpec struct {
	// default marks the plan used when a request names none.
	// +optional
	Default bool `json:"default,omitempty"`

	// displayName is the plan's human name.
	// +optional
	DisplayName string `json:"displayName,omitempty"`

	// image is the OCI image every machine runs.
	// +kubebuilder:validation:MinLength=1
	Image string `json:"image"`

	// guest is the machine size.
	// +optional
	Guest GuestSpec `json:"guest,omitempty"`

	// services are the ports the machines serve; Flycast routes no traffic
	// to an app whose machines have none.
	// +optional
	// +kubebuilder:validation:MaxItems=16
	Services []ServiceSpec `json:"services,omitempty"`

	// env is set on every machine. Credentials are not: they are app secrets.
	// +optional
	Env map[string]string `json:"env,omitempty"`

	// restartPolicy is Fly's machine restart policy.
	// +optional
	// +kubebuilder:validation:Enum=no;always;on-failure
	// +kubebuilder:default=always
	RestartPolicy string `json:"restartPolicy,omitempty"`

	// storage gives each machine a Fly volume of its own; none when unset.
	// Fly volumes only grow, and an extension's data is on them: a plan's
	// storage may grow but not shrink, and is not removed once set.
	// +optional
	// +kubebuilder:validation:XValidation:rule="self.sizeGB >= oldSelf.sizeGB",message="storage.sizeGB cannot shrink: Fly volumes only grow (make a new plan and move extensions to it with a restore)"
	Storage *StorageSpec `json:"storage,omitempty"`

	// rollout says how a change of this plan reaches its machines: one
	// extension's machines a step at a time, the plan's extensions a few
	// at a time. Unset, every limit has its default.
	// +optional
	Rollout *RolloutSpec `json:"rollout,omitempty"`

	// progressDeadlineSeconds is how long an extension may keep failing to
	// reach its desired state (Fly errors, no capacity, a machine that will
	// not pass its checks) before Fly is told it is in error. Jetway keeps
	// trying, and the extension returns to ready when Fly recovers. The
	// default, 4 minutes, is about when flyctl stops polling.
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=86400
	// +kubebuilder:default=240
	ProgressDeadlineSeconds *int32 `json:"progressDeadlineSeconds,omitempty"`

	// nameConflicts is what a provisioning request whose name another
	// extension holds gets: reject answers 409 name_taken; rename gives it
	// a unique name (the requested one plus a suffix made from its id),
	// which Fly's page allows ("an updated name ... due to uniqueness
	// constraints"). The name Fly asked for is kept in the
	// jetway.dev/requested-name annotation, and a repeat of the request
	// with it is the same request.
	// +optional
	// +kubebuilder:validation:Enum=reject;rename
	// +kubebuilder:default=reject
	NameConflicts *string `json:"nameConflicts,omitempty"`

	// optionsSchema declares the options Fly's requests may carry for this
	// plan: an OpenAPI v3 schema of the options object, in the subset CRDs
	// use (type, properties, required, enum, minimum, maximum, pattern,
	// additionalProperties...). With it, options are validated (errors
	// name the field path), an update merges into them (JSON merge patch:
	// absent is unchanged, null removes), and each top-level option reaches
	// the machines as JETWAY_OPTION_<NAME>. Without it, options are kept
	// verbatim and reach no machine.
	// +optional
	// +kubebuilder:pruning:PreserveUnknownFields
	// +kubebuilder:validation:Schemaless
	// +kubebuilder:validation:Type=object
	OptionsSchema *apiextensionsv1.JSON `json:"optionsSchema,omitempty"`
	// secretOptions are the top-level options kept in a Secret beside the
	// extension, never in its spec, and set as Fly app secrets rather than
	// machine environment.
	// +optional
	// +listType=set
	SecretOptions []string `json:"secretOptions,omitempty"`

	// quota bounds what one organization may have on this plan, beside its
	// organization-wide quota: e.g. one large database each.
	// +optional
	Quota *Quota `json:"quota,omitempty"`

	// connection says how the config returned to Fly is rendered.
	Connection ConnectionSpec `json:"connection"`

	// pricing is what the plan costs, in integer micro-units of currency.
	// +optional
	Pricing PricingSpec `json:"pricing,omitempty"`
}

// GuestSpec is a Fly machine size.
type GuestSpec struct {
	// cpuKind is the kind of Fly CPU: shared or performance.
	// +optional
	// +kubebuilder:validation:Enum=shared;performance
	// +kubebuilder:default=shared
	CPUKind string `json:"cpuKind,omitempty"`
	// cpus is the number of CPUs of each machine.
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=16
	// +kubebuilder:default=1
	CPUs int `json:"cpus,omitempty"`
	// memoryMB is the memory of each machine, in megabytes.
	// +optional
	// +kubebuilder:validation:Minimum=256
	// +kubebuilder:validation:Maximum=131072
	// +kubebuilder:default=256
	MemoryMB int `json:"memoryMB,omitempty"`
}

// ServiceSpec is one service of a machine.
type ServiceSpec struct {
	// protocol is the service's transport protocol: tcp or udp.
	// +kubebuilder:validation:Enum=tcp;udp
	// +kubebuilder:default=tcp
	// +optional
	Protocol string `json:"protocol,omitempty"`
	// internalPort is the port the machine's process listens on; Fly's proxy
	// forwards the service's ports to it.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=65535
	InternalPort int `json:"internalPort"`
	// ports are the ports the service is reachable on.
	// +kubebuilder:validation:MinItems=1
	Ports []PortSpec `json:"ports"`
	// autostop lets Fly's proxy stop or suspend idle machines.
	// +optional
	// +kubebuilder:validation:Enum=off;stop;suspend
	// +kubebuilder:default=off
	Autostop string `json:"autostop,omitempty"`
	// autostart lets Fly's proxy start machines on traffic.
	// +optional
	Autostart bool `json:"autostart,omitempty"`
	// minMachinesRunning is how many machines Fly's proxy keeps running
	// when autostop stops or suspends idle ones. Unset leaves it to Fly.
	// +optional
	// +kubebuilder:validation:Minimum=0
	MinMachinesRunning *int `json:"minMachinesRunning,omitempty"`
	// checks are the service's health checks. An extension is ready only
	// when every check of every machine passes on Fly.
	// +optional
	Checks []CheckSpec `json:"checks,omitempty"`
	// servedBy is which of an extension's machines serve this service:
	// all of them, only the primary, or only the replicas. Flycast sends a
	// port's connections only to machines that serve it, so a write port
	// served by the primary and a read port served by all gives clients
	// one address for both (docs/primary-and-replicas.md).
	// +optional
	// +kubebuilder:validation:Enum=all;primary;replicas
	// +kubebuilder:default=all
	ServedBy *string `json:"servedBy,omitempty"`
}

// PortSpec is one public port of a service.
type PortSpec struct {
	// port is the port number the service is reachable on.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=65535
	Port int `json:"port"`
	// handlers are Fly proxy handlers such as "tls" or "http"; Flycast is
	// plain, so usually none.
	// +optional
	Handlers []string `json:"handlers,omitempty"`
	// proxyProtocol puts Fly's proxy_proto handler on the port, with this
	// PROXY protocol version, so the service learns on each connection the
	// address the customer's app reached it at on the customer's network:
	// Fly's page suggests comparing it with the extension's ip_address as
	// a check beyond credentials. Machines of a plan with such a port get
	// that address as JETWAY_CUSTOMER_ADDRESS (docs/fly-contract.md).
	// +optional
	// +kubebuilder:validation:Enum=v1;v2
	ProxyProtocol *string `json:"proxyProtocol,omitempty"`
}

// CheckSpec is a health check.
type CheckSpec struct {
	// type is the kind of check: tcp or http.
	// +kubebuilder:validation:Enum=tcp;http
	Type string `json:"type"`
	// path is the HTTP path, for http checks.
	// +optional
	Path string `json:"path,omitempty"`
	// interval is the time between checks, such as "15s". Unset leaves it to
	// Fly.
	// +optional
	Interval *metav1.Duration `json:"interval,omitempty"`
	// timeout is how long a check may take before it fails, such as "2s".
	// Unset leaves it to Fly.
	// +optional
	Timeout *metav1.Duration `json:"timeout,omitempty"`
	// gracePeriod is how long Fly waits after a machine starts before it
	// runs the check, such as "10s". Unset leaves it to Fly.
	// +optional
	GracePeriod *metav1.Duration `json:"gracePeriod,omitempty"`
}

// ConnectionSpec renders the config Fly sets as secrets on the customer's app.
type ConnectionSpec struct {
	// config maps each config key to a Go text/template. The template sees
	// .Username, .Password, .Host (the extension's DNS name), .Port, .Name,
	// .ID, .AppName, .FlycastIP and .PrimaryRegion.
	// Keys must be upper-case environment variable names.
	// +kubebuilder:validation:MinProperties=1
	// +kubebuilder:validation:XValidation:rule="self.all(k, k.matches('^[A-Z][A-Z0-9_]*$'))",message="config keys must be upper-case environment variable names"
	Config map[string]string `json:"config"`
	// port is the port clients connect to, available to templates as .Port.
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=65535
	Port int `json:"port,omitempty"`
	// username is the user name put in the credentials; default the
	// extension's name. A rotation keeps it and changes the password.
	// +optional
	Username string `json:"username,omitempty"`
	// rotation says when the password a rotation replaced stops working
	// (jetway.dev/rotate-credentials; docs/credentials.md). Unset: on an
	// operator's confirmation.
	// +optional
	Rotation *CredentialRotationSpec `json:"rotation,omitempty"`
}

// PricingSpec is a plan's price. Money is integer micro-units: 1 USD =
// 1,000,000. What is charged is what ran on Fly, metered from each
// machine's own event history, and the volumes that existed
// (docs/billing.md).
type PricingSpec struct {
	// currency is the three-letter (ISO 4217) code of the currency the
	// prices are in. It must be the provider's billing currency
	// (--billing-currency); usage on a plan in another currency is
	// recorded unpriced.
	// +optional
	// +kubebuilder:default=USD
	// +kubebuilder:validation:Pattern=`^[A-Z]{3}$`
	Currency string `json:"currency,omitempty"`
	// machineHourMicros is charged per hour a machine runs (is in Fly's
	// "started" state), for every size machineHourMicrosBySize does not
	// name.
	// +optional
	// +kubebuilder:validation:Minimum=0
	MachineHourMicros int64 `json:"machineHourMicros,omitempty"`
	// machineHourMicrosBySize is the price of an hour of running by Fly
	// guest size, named as Fly names sizes ("shared-cpu-1x",
	// "performance-2x"); a size named here overrides machineHourMicros.
	// +optional
	// +listType=map
	// +listMapKey=size
	// +kubebuilder:validation:MaxItems=64
	MachineHourMicrosBySize []SizePrice `json:"machineHourMicrosBySize,omitempty"`
	// volumeGBHourMicros is charged per GB of volume per hour it exists,
	// for every volume of the extension's app (a plan with storage gives
	// each machine one), from Fly's created_at until it is destroyed.
	// +optional
	// +kubebuilder:validation:Minimum=0
	VolumeGBHourMicros int64 `json:"volumeGBHourMicros,omitempty"`
}

// SizePrice is the price of an hour of running at one guest size.
type SizePrice struct {
	// size is Fly's name of the guest size, such as shared-cpu-2x.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=64
	Size string `json:"size,omitempty"`
	// machineHourMicros is the price of an hour.
	// +required
	// +kubebuilder:validation:Minimum=0
	MachineHourMicros int64 `json:"machineHourMicros"`
}

// MachineHourPrice is what an hour of running costs a machine of size.
func (p PricingSpec) MachineHourPrice(size string) int64 {
	for _, sp := range p.MachineHourMicrosBySize {
		if sp.Size == size {
			return sp.MachineHourMicros
		}
	}
	return p.MachineHourMicros
}

// ExtensionPlanStatus is what the controllers observed about a plan.
type ExtensionPlanStatus struct {
	// conditions are the plan's conditions, in the standard form. No
	// controller sets any yet.
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
	metav1.TypeMeta `json:",inline"`
	// metadata is the standard object metadata.
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec says what an extension of this plan is: what runs on its
	// machines and how the provisioning response's config is rendered.
	// Operators manage plans with GitOps; exactly one should be the default.
	Spec ExtensionPlanSpec `json:"spec"`
	// status is what the controllers observed about the plan.
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
	knownTypes = append(knownTypes, &ExtensionPlan{}, &ExtensionPlanList{})
}

// Name conflict policies (ExtensionPlanSpec.NameConflicts).
const (
	NameConflictsReject = "reject"
	NameConflictsRename = "rename"
)

// RenamesOnConflict reports whether the plan answers a taken name with a
// unique one instead of 409.
func (s *ExtensionPlanSpec) RenamesOnConflict() bool {
	return s.NameConflicts != nil && *s.NameConflicts == NameConflictsRename
}

// UsesProxyProtocol reports whether a port of the plan has the PROXY
// protocol handler.
func (s *ExtensionPlanSpec) UsesProxyProtocol() bool {
	for _, svc := range s.Services {
		for _, p := range svc.Ports {
			if p.ProxyProtocol != nil {
				return true
			}
		}
	}
	return false
}
