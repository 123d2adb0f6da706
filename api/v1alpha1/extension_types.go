package v1alpha1

import (
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The status words Fly sees. flyctl understands only "ready" and "error", so
// every path of the controller ends in one of those two.
const (
	PhasePending  = "pending"
	PhaseReady    = "ready"
	PhaseSleeping = "sleeping"
	PhaseError    = "error"
	PhaseDeleting = "deleting"
)

// Machine roles.
const (
	RolePrimary = "primary"
	RoleReplica = "replica"
)

// ExtensionSpec is one customer resource as Fly asked for it. It mirrors Fly's
// provisioning request; the gateway owns it, so do not edit the fields Fly
// sends on an Extension that Fly created.
// +kubebuilder:validation:XValidation:rule="!has(oldSelf.ipAddress) || has(self.ipAddress)",message="ipAddress cannot be removed once set"
type ExtensionSpec struct {
	// id is Fly's unique id for the extension. Fly uses it in every later call.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=128
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="id is immutable"
	ID string `json:"id"`

	// name is the extension's name, unique across Fly.io.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="name is immutable"
	Name string `json:"name"`

	// organization is the Fly organization that owns the extension.
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="organization is immutable"
	Organization OrganizationRef `json:"organization"`

	// user is the Fly user who provisioned the extension.
	// +optional
	User *ProvisioningUser `json:"user,omitempty"`

	// primaryRegion is the Fly region of the primary machine. flyctl tells the
	// customer it cannot be changed later.
	// +kubebuilder:validation:Pattern=`^[a-z]{3}$`
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="primaryRegion is immutable"
	PrimaryRegion string `json:"primaryRegion"`

	// readRegions are the Fly regions that get one replica machine each.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=32
	// +kubebuilder:validation:items:Pattern=`^[a-z]{3}$`
	ReadRegions []string `json:"readRegions,omitempty"`

	// ipAddress is the Flycast address Fly allocated on the customer's
	// network and routes to this extension's Fly app.
	// +optional
	// +kubebuilder:validation:XValidation:rule="isIP(self) && ip(self).family() == 6",message="ipAddress must be an IPv6 address"
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="ipAddress is immutable"
	IPAddress string `json:"ipAddress,omitempty"`

	// plan is the name of an ExtensionPlan. Empty means the default plan.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	Plan string `json:"plan,omitempty"`

	// options is Fly's "options" object, kept verbatim.
	// +optional
	// +kubebuilder:pruning:PreserveUnknownFields
	Options *apiextensionsv1.JSON `json:"options,omitempty"`

	// extraFields keeps the request fields Jetway does not know, verbatim, so
	// that nothing Fly sent is lost.
	// +optional
	// +kubebuilder:pruning:PreserveUnknownFields
	ExtraFields *apiextensionsv1.JSON `json:"extraFields,omitempty"`
}

// OrganizationRef names a Fly organization.
type OrganizationRef struct {
	// id is Fly's organization id.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=128
	ID string `json:"id"`
	// name is the organization's display name.
	// +optional
	Name string `json:"name,omitempty"`
}

// ProvisioningUser is the Fly user behind a provisioning request.
type ProvisioningUser struct {
	// id is Fly's user id.
	// +kubebuilder:validation:MinLength=1
	ID string `json:"id"`
	// email is Fly's stable, obfuscated alias that routes to the user.
	// +optional
	Email string `json:"email,omitempty"`
	// role is the user's role in the organization.
	// +optional
	// +kubebuilder:validation:Enum=admin;member
	Role string `json:"role,omitempty"`
}

// ExtensionStatus is what the controllers observed and did.
type ExtensionStatus struct {
	// conditions are the extension's conditions: Ready, Reconciling and
	// Stalled (kstatus), AppReady, MachinesReady, NetworkReady and DNSReady
	// (one concern of the Extension controller each), Restored while a
	// restore is asked for, CredentialsRotated once a rotation is, and
	// FlyNotified (owned by the webhook notifier). Restored,
	// CredentialsRotated and FlyNotified are not part of Ready.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// observedGeneration is the generation the last finished pass acted on.
	// -1 until the first pass finishes, so a new object is not "Current".
	// +kubebuilder:default=-1
	// +optional
	ObservedGeneration int64 `json:"observedGeneration"`

	// phase is the status word Fly sees: pending, ready, sleeping, error or
	// deleting.
	// +optional
	// +kubebuilder:validation:Enum=pending;ready;sleeping;error;deleting
	Phase string `json:"phase,omitempty"`

	// errorMessage explains an error phase in words Fly can show a customer.
	// +optional
	ErrorMessage string `json:"errorMessage,omitempty"`

	// appName is the Fly app that runs this extension.
	// +optional
	AppName string `json:"appName,omitempty"`

	// flycastIP is the private_v6 address allocated on the app.
	// +optional
	FlycastIP string `json:"flycastIP,omitempty"`

	// secretOptionsRevision is the revision of the secret options
	// (annotation jetway.dev/secret-options-revision) last set as the Fly
	// app's secrets; machines restart onto it.
	// +optional
	SecretOptionsRevision *string `json:"secretOptionsRevision,omitempty"`

	// dnsName is the name that resolves to the customer-network address.
	// +optional
	DNSName string `json:"dnsName,omitempty"`

	// credentialsSecret names the Secret holding the generated credentials.
	// +optional
	CredentialsSecret string `json:"credentialsSecret,omitempty"`

	// credentials is how far the last rotation of the credentials is;
	// unset until one is asked for.
	// +optional
	Credentials *CredentialsStatus `json:"credentials,omitempty"`

	// machines are the Fly machines that make up the extension.
	// +optional
	// +listType=map
	// +listMapKey=id
	Machines []MachineStatus `json:"machines,omitempty"`

	// rollout is how far the machines are on their desired config.
	// +optional
	Rollout *RolloutStatus `json:"rollout,omitempty"`

	// failingSince is when Jetway's passes began to fail to reach Fly's
	// desired state (a Fly error, a capacity refusal, a machine that will
	// not come up). Past the plan's progressDeadline the extension shows
	// as error while Jetway keeps trying; unset once a pass succeeds.
	// +optional
	FailingSince *metav1.Time `json:"failingSince,omitempty"`

	// restore is the last restore asked for with the
	// jetway.dev/restore-from-snapshot annotation, while the annotation
	// stays.
	// +optional
	Restore *RestoreStatus `json:"restore,omitempty"`

	// notification is what Fly was last told about the extension by
	// webhook, and what is being delivered now. It is kept here, in the
	// object, so that no restart can lose a notification.
	// +optional
	Notification *NotificationStatus `json:"notification,omitempty"`
}

// NotificationStatus tracks webhook delivery to Fly.
type NotificationStatus struct {
	// acknowledged is the last notification Fly answered with a 2xx.
	// +optional
	Acknowledged *Notification `json:"acknowledged,omitempty"`
	// pending is the notification being delivered, with its retry state.
	// +optional
	Pending *PendingNotification `json:"pending,omitempty"`
	// credentials is what Fly answered the last notification that carried
	// rotated credentials (status.credentials.announce).
	// +optional
	Credentials *CredentialsAnnouncement `json:"credentials,omitempty"`
}

// Notification is one webhook to Fly.
type Notification struct {
	// deliveryID is the same on every retry, so Fly can drop duplicates.
	DeliveryID string `json:"deliveryID"`
	// action is resource.created, resource.updated or resource.deleted.
	Action string `json:"action"`
	// digest fingerprints what Fly is told (status word, plan, name,
	// regions), so a change is noticed once.
	Digest string `json:"digest"`
	// at is when Fly acknowledged it.
	// +optional
	At *metav1.Time `json:"at,omitempty"`
	// credentialsRevision is the credentials revision whose config the
	// notification carries, when it announces a rotation.
	// +optional
	// +kubebuilder:validation:MaxLength=64
	CredentialsRevision *string `json:"credentialsRevision,omitempty"`
}

// PendingNotification is a notification not yet acknowledged.
type PendingNotification struct {
	Notification `json:",inline"`
	// since is when the change was noticed.
	Since metav1.Time `json:"since"`
	// attempts is the number of delivery attempts made so far.
	// +optional
	Attempts int32 `json:"attempts,omitempty"`
	// nextAttempt is when the next attempt is due.
	// +optional
	NextAttempt *metav1.Time `json:"nextAttempt,omitempty"`
	// lastError says why the last attempt failed.
	// +optional
	LastError string `json:"lastError,omitempty"`
}

// MachineStatus is one Fly machine of an extension.
type MachineStatus struct {
	// id is Fly's machine id.
	ID string `json:"id"`
	// region is the Fly region the machine runs in.
	Region string `json:"region"`
	// role is primary or replica.
	// +kubebuilder:validation:Enum=primary;replica
	Role string `json:"role"`
	// state is the machine's last observed Fly state.
	// +optional
	State string `json:"state,omitempty"`
	// checks sums up the machine's health checks as Fly last reported them:
	// "passing", or the first failing check and its output. Empty when the
	// plan has no checks.
	// +optional
	// +kubebuilder:validation:MaxLength=256
	Checks *string `json:"checks,omitempty"`
	// upToDate is true when the machine runs the desired config.
	// +optional
	UpToDate *bool `json:"upToDate,omitempty"`
}

// Extension is one customer resource provisioned through Fly.io.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=ext,categories=jetway
// +kubebuilder:printcolumn:name="Status",type=string,JSONPath=`.status.phase`
// +kubebuilder:printcolumn:name="Plan",type=string,JSONPath=`.spec.plan`
// +kubebuilder:printcolumn:name="Region",type=string,JSONPath=`.spec.primaryRegion`
// +kubebuilder:printcolumn:name="App",type=string,JSONPath=`.status.appName`
// +kubebuilder:printcolumn:name="Rollout",type=string,JSONPath=`.status.conditions[?(@.type=="RolledOut")].reason`
// +kubebuilder:printcolumn:name="Updated",type=string,JSONPath=`.status.rollout.progress`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type Extension struct {
	metav1.TypeMeta `json:",inline"`
	// metadata is the standard object metadata.
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec is the customer resource as Fly asked for it. It mirrors Fly's
	// provisioning request; the gateway owns it, so do not edit the fields
	// Fly sends on an Extension that Fly created.
	Spec ExtensionSpec `json:"spec"`
	// status is what the controllers observed and did.
	// +kubebuilder:default:={"observedGeneration":-1}
	Status ExtensionStatus `json:"status,omitempty"`
}

// ExtensionList is a list of Extensions.
// +kubebuilder:object:root=true
type ExtensionList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Extension `json:"items"`
}

func init() {
	knownTypes = append(knownTypes, &Extension{}, &ExtensionList{})
}

// GetConditions returns the conditions (used by condition helpers).
func (e *Extension) GetConditions() []metav1.Condition { return e.Status.Conditions }

// SetConditions replaces the conditions.
func (e *Extension) SetConditions(c []metav1.Condition) { e.Status.Conditions = c }

// DesiredMachines returns the machines the spec asks for: the primary first,
// then one replica per distinct read region, in the order given.
func (s *ExtensionSpec) DesiredMachines() []MachineKey {
	keys := []MachineKey{{Role: RolePrimary, Region: s.PrimaryRegion}}
	seen := map[string]bool{}
	for _, r := range s.ReadRegions {
		if seen[r] {
			continue
		}
		seen[r] = true
		keys = append(keys, MachineKey{Role: RoleReplica, Region: r})
	}
	return keys
}

// MachineKey identifies a desired machine: its role in a region. It is an
// in-memory key (of maps and machine sets), not a field of any resource, so
// the Kubernetes API conventions do not apply to it.
//
//nolint:kubeapilinter // in-memory helper type: no CRD includes it and it is never serialized.
type MachineKey struct {
	Role   string
	Region string
}

// String renders the key as "role/region".
func (k MachineKey) String() string { return k.Role + "/" + k.Region }
