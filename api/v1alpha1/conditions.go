package v1alpha1

// Condition types. Ready, Reconciling and Stalled follow kstatus so that
// kubectl wait, Flux and Argo CD understand an Extension without knowing it;
// the others each belong to one concern of the Extension controller.
const (
	ConditionReady         = "Ready"
	ConditionReconciling   = "Reconciling"
	ConditionStalled       = "Stalled"
	ConditionAppReady      = "AppReady"
	ConditionMachinesReady = "MachinesReady"
	ConditionNetworkReady  = "NetworkReady"
	ConditionDNSReady      = "DNSReady"
	// ConditionFlyNotified is owned by the webhook notifier: True once Fly
	// has acknowledged the extension's current state.
	ConditionFlyNotified = "FlyNotified"
	// ConditionUsageProven is True while Fly's machine events prove every
	// second of the extension's metered machine time since its ledger's
	// openFrom; False names time that was not billed because its events
	// rolled off Fly's list before they were read. It is not part of
	// Ready: billing never holds back service.
	ConditionUsageProven = "UsageProven"
	// ConditionRestored is there while the restore-from-snapshot
	// annotation is: False while the restore runs (ReasonRestoring) or
	// when it was refused (ReasonSnapshotNotFound, ReasonRestoreRefused),
	// True once every machine runs on its restored volume. It is not part
	// of Ready: a refused restore leaves the extension running as it was.
	ConditionRestored = "Restored"
)

// Condition reasons. CamelCase, stable: tools and people match on them.
const (
	ReasonSucceeded            = "Succeeded"
	ReasonProgressing          = "Progressing"
	ReasonDeleting             = "Deleting"
	ReasonPending              = "Pending"
	ReasonAppCreated           = "AppCreated"
	ReasonAppNameTaken         = "AppNameTaken"
	ReasonFlyUnavailable       = "FlyUnavailable"
	ReasonFlyRateLimited       = "FlyRateLimited"
	ReasonFlyUnauthorized      = "FlyUnauthorized"
	ReasonFlyRejected          = "FlyRejected"
	ReasonInsufficientCapacity = "InsufficientCapacity"
	ReasonMachinesStarting     = "MachinesStarting"
	ReasonMachinesRunning      = "MachinesRunning"
	ReasonMachinesAsleep       = "MachinesAsleep"
	ReasonMachineFailed        = "MachineFailed"
	ReasonMachineRestarted     = "MachineRestarted"
	// ReasonChecksFailing: machines run but Fly does not report all their
	// health checks passing.
	ReasonChecksFailing = "ChecksFailing"
	// ReasonRolloutPaused: a machine changed by a rollout has not passed
	// its checks within the plan's healthTimeout; the machines not yet
	// changed are left on the old config.
	ReasonRolloutPaused = "RolloutPaused"
	// ReasonStorageShrinkRefused: the extension's plan gives its machines
	// smaller volumes than they have, and Fly cannot shrink a volume.
	ReasonStorageShrinkRefused = "StorageShrinkRefused"
	// ReasonProgressDeadlineExceeded: the extension has failed to reach
	// its desired state for longer than its plan's progressDeadline.
	ReasonProgressDeadlineExceeded = "ProgressDeadlineExceeded"
	// ReasonMachineWedged: a primary machine has stayed in a transient
	// state (starting, stopping, ...) past the wedged threshold. Jetway
	// replaces wedged replicas itself but leaves a primary, which may hold
	// data, to an operator.
	ReasonMachineWedged = "MachineWedged"
	// ReasonDNSNameTaken: another, older Extension's name becomes the same
	// DNS name; this one stalls rather than publish a conflicting record.
	ReasonDNSNameTaken  = "DNSNameTaken"
	ReasonIPAllocated   = "IPAllocated"
	ReasonRecordWritten = "RecordWritten"
	ReasonNoAddress     = "NoAddress"
	// ReasonProviderAddressOnly: the record points at Jetway's own Flycast
	// address, because the extension has no customer-network ip_address
	// (applied with GitOps, not provisioned by Fly); customers' apps
	// cannot reach it there.
	ReasonProviderAddressOnly = "ProviderAddressOnly"
	ReasonPlanNotFound        = "PlanNotFound"
	ReasonPlanInvalid         = "PlanInvalid"
	ReasonCredentialsMissing  = "CredentialsMissing"
	ReasonDependencyNotReady  = "DependencyNotReady"
	ReasonNamespaceReady      = "NamespaceReady"
	ReasonDelivered           = "Delivered"
	ReasonDelivering          = "Delivering"
	ReasonWebhookFailing      = "WebhookFailing"
	ReasonWebhookAbandoned    = "WebhookAbandoned"
	// ReasonWebhookRejected: Fly refused a webhook with a 4xx that a retry
	// cannot change (not 408, 425 or 429); it is not sent again.
	ReasonWebhookRejected = "WebhookRejected"
	ReasonEventsMetered   = "EventsMetered"
	ReasonEventsRolledOff = "EventsRolledOff"
)

// Reasons of volumes, snapshots and restores.
const (
	// ReasonVolumeRemoved: an extra unattached volume of a machine (a
	// volume create whose answer was lost and retried) was destroyed.
	ReasonVolumeRemoved = "VolumeRemoved"
	// ReasonFinalSnapshot: deprovisioning snapshotted a volume before
	// destroying it.
	ReasonFinalSnapshot = "FinalSnapshot"
	// ReasonAppRetained: deprovisioning kept the emptied Fly app for the
	// final snapshots, which Fly restores only into that app.
	ReasonAppRetained      = "AppRetained"
	ReasonRestoring        = "Restoring"
	ReasonSnapshotRestored = "SnapshotRestored"
	// ReasonSnapshotNotFound: the snapshot asked for is not one of this
	// extension's, or has expired.
	ReasonSnapshotNotFound = "SnapshotNotFound"
	// ReasonRestoreRefused: the restore cannot be done as asked (a
	// snapshot of another region, a plan without storage, a value that is
	// no snapshot id); the message says why.
	ReasonRestoreRefused = "RestoreRefused"
	// ReasonRestoreCancelled: the annotation was removed before the
	// restore finished.
	ReasonRestoreCancelled = "RestoreCancelled"
)

// Finalizer holds an Extension until its Fly app, machines and IPs are gone.
const Finalizer = "jetway.dev/teardown"

// NotifyFinalizer holds an Extension until Fly has acknowledged
// resource.deleted.
const NotifyFinalizer = "jetway.dev/notify-fly"

// AnnotationPaused, set to "true" on an Extension, holds its controllers
// back: the Extension controller and the notifier leave it as it is (no Fly
// call, no status write, no webhook, and no teardown while it is being
// deleted) until the annotation goes. Operators pause an extension they are
// looking into by hand; the benchmark pauses the extensions whose cache
// cost it measures. As Cluster API's cluster.x-k8s.io/paused.
const AnnotationPaused = "jetway.dev/paused"

// AnnotationMachineEvent is set on an Extension when Fly reports one of its
// machines changed. It only asks the Extension controller for a look at
// Fly, at most once per --machine-event-interval: an event is a hint,
// never the truth, so a duplicate, out-of-order or forged one cannot put a
// wrong state in status, and a flood costs one look per interval.
const AnnotationMachineEvent = "jetway.dev/machine-event"

// AnnotationRequestedName is the name Fly asked for, on an Extension whose
// plan renamed it because another extension held the name
// (ExtensionPlanSpec.NameConflicts).
const AnnotationRequestedName = "jetway.dev/requested-name"

// AnnotationSecretOptionsRevision changes, to a random token, whenever an
// extension's secret options (kept in its options Secret, never in the
// spec) change, so that the Extension and its machines' config change too.
// Random rather than a digest: a digest of a secret would let whoever reads
// Extensions test guesses of it.
const AnnotationSecretOptionsRevision = "jetway.dev/secret-options-revision"

// AnnotationOrigin records who created an Extension; the gateway writes
// OriginFly, so Fly is not told about a resource it created itself.
const (
	AnnotationOrigin = "jetway.dev/origin"
	OriginFly        = "fly"
)

// Labels and annotations Jetway puts on the objects it writes.
const (
	// LabelFlyIDHash lets the gateway find an Extension by Fly's id with a
	// server-side label selector (Fly ids are not always valid label values).
	LabelFlyIDHash = "jetway.dev/fly-id-hash"
	// LabelOrganization marks a namespace (and what is in it) with the
	// Organization it belongs to.
	LabelOrganization = "jetway.dev/organization"
	// LabelExtension marks objects that belong to one Extension.
	LabelExtension = "jetway.dev/extension"
	// LabelManagedBy is the standard managed-by label.
	LabelManagedBy = "app.kubernetes.io/managed-by"
	// ManagedByJetway is the value of LabelManagedBy.
	ManagedByJetway = "jetway"
)
