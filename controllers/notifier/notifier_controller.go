package notifier

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/klog/v2"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
	"sigs.k8s.io/controller-runtime/pkg/recorder"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
	"github.com/jetway-dev/jetway/controllers/internal/extstatus"
	"github.com/jetway-dev/jetway/internal/domain"
	"github.com/jetway-dev/jetway/internal/webhook"
)

var (
	webhookAttempts = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "jetway_webhook_attempts_total",
		Help: "Webhook delivery attempts to Fly by action and result (delivered, failed, rejected: a 4xx not retried, abandoned: given up after the retry window).",
	}, []string{"action", "result"})
	webhookLatency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "jetway_webhook_delivery_seconds",
		Help:    "Time from noticing a change to Fly's 2xx, by action.",
		Buckets: []float64{.05, .1, .5, 1, 5, 15, 60, 300, 1800, 3600, 6 * 3600, 24 * 3600, 72 * 3600},
	}, []string{"action"})
)

func init() {
	metrics.Registry.MustRegister(webhookAttempts, webhookLatency)
}

// Settings configure webhook delivery to Fly.
type Settings struct {
	// Domain renders the resource as GET does.
	Domain domain.Settings
	// FirstRetry is the wait after the first failure; it doubles, with
	// jitter, up to MaxRetryInterval.
	FirstRetry       time.Duration
	MaxRetryInterval time.Duration
	// GiveUpAfter ends retries of one notification (Fly may be down for
	// a while; 72 h by default).
	GiveUpAfter time.Duration
	// FailingAfter is how many failed attempts make FlyNotified False.
	FailingAfter int32
	// MaxConcurrentReconciles bounds parallel deliveries.
	MaxConcurrentReconciles int
}

// Reconciler tells Fly about every change to an extension by
// webhook, at least once: what Fly acknowledged and what is still pending
// live in the Extension's status, so neither a restart nor a long Fly
// outage loses a notification. Each extension retries on its own schedule,
// so one failing delivery never holds up another.
type Reconciler struct {
	client.Client
	// APIReader reads live objects: before a new delivery, and when a
	// status write conflicts.
	APIReader client.Reader
	Sender    *webhook.Sender
	Recorder  recorder.EventRecorder
	Settings  Settings
	Now       func() time.Time
}

// +kubebuilder:rbac:groups=jetway.dev,resources=extensions,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=jetway.dev,resources=extensions/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=jetway.dev,resources=extensions/finalizers,verbs=update
// +kubebuilder:rbac:groups=jetway.dev,resources=extensionplans,verbs=get;list;watch
// Credentials Secrets, for the config of rotated credentials: only in org
// namespaces, through domain.NamespaceAccess.

// Reconcile delivers the extension's pending notification, if any.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	ext := &jetwayv1.Extension{}
	if err := r.Get(ctx, req.NamespacedName, ext); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	ctx = log.IntoContext(ctx, log.FromContext(ctx).WithValues("extension", klog.KObj(ext), "flyID", ext.Spec.ID))
	if ext.Annotations[jetwayv1.AnnotationPaused] == "true" {
		return ctrl.Result{}, nil
	}
	deleting := !ext.DeletionTimestamp.IsZero()
	if !deleting && !controllerutil.ContainsFinalizer(ext, jetwayv1.NotifyFinalizer) {
		// Held from the start, so resource.deleted is always sent.
		patch := client.MergeFromWithOptions(ext.DeepCopy(), client.MergeFromWithOptimisticLock{})
		controllerutil.AddFinalizer(ext, jetwayv1.NotifyFinalizer)
		return ctrl.Result{}, r.Patch(ctx, ext, patch)
	}
	if deleting && (!controllerutil.ContainsFinalizer(ext, jetwayv1.NotifyFinalizer) ||
		controllerutil.ContainsFinalizer(ext, jetwayv1.Finalizer)) {
		// Fly hears "deleted" only once the teardown is done.
		return ctrl.Result{}, nil
	}

	res := r.Settings.Domain.ResourceOf(ext)
	want, needed := r.desiredNotice(ext, res)
	if needed && startsNewDelivery(ext, want, res) {
		// The cache may not show yet what the last pass acknowledged; a new
		// delivery id would then send Fly the same news twice. Passes for
		// one Extension never overlap, so a fresh read sees that write.
		fresh := &jetwayv1.Extension{}
		if err := r.APIReader.Get(ctx, req.NamespacedName, fresh); err != nil {
			return ctrl.Result{}, client.IgnoreNotFound(err)
		}
		ext = fresh
		res = r.Settings.Domain.ResourceOf(ext)
		want, needed = r.desiredNotice(ext, res)
	}
	before := ext.DeepCopy()
	var wait time.Duration
	var deliverErr error
	if needed {
		wait, deliverErr = r.deliver(ctx, ext, want, res)
	} else {
		extstatus.MarkTrue(ext, jetwayv1.ConditionFlyNotified, jetwayv1.ReasonDelivered, "Fly has the extension's current state")
	}
	if !equality.Semantic.DeepEqual(before.Status, ext.Status) {
		mine := func(jetwayv1.ExtensionStatus) jetwayv1.ExtensionStatus { return ext.Status }
		applied, err := extstatus.Apply(ctx, r.Client, r.APIReader, extstatus.Notifier, before, mine, false)
		if err != nil {
			return ctrl.Result{}, fmt.Errorf("save notification state: %w", err)
		}
		// The finalizer patch below is optimistically locked: it needs the
		// version this write made.
		ext.ResourceVersion = applied.ResourceVersion
	}
	if deliverErr != nil {
		return ctrl.Result{}, deliverErr
	}
	if deleting && ext.Status.Notification.Pending == nil {
		patch := client.MergeFromWithOptions(ext.DeepCopy(), client.MergeFromWithOptimisticLock{})
		controllerutil.RemoveFinalizer(ext, jetwayv1.NotifyFinalizer)
		return ctrl.Result{}, client.IgnoreNotFound(r.Patch(ctx, ext, patch))
	}
	return ctrl.Result{RequeueAfter: wait}, nil
}

// notice is what Fly is to be told: an action, and the revision of rotated
// credentials whose config it carries ("" for none).
type notice struct {
	action              string
	credentialsRevision string
}

func (n notice) digest(res domain.Resource) string {
	return webhook.CredentialsDigest(n.action, res, n.credentialsRevision)
}

// startsNewDelivery reports whether telling Fly want would start a new
// notification rather than retry the pending one.
func startsNewDelivery(ext *jetwayv1.Extension, want notice, res domain.Resource) bool {
	n := ext.Status.Notification
	if n == nil || n.Pending == nil {
		return true
	}
	return n.Pending.Action != want.action || n.Pending.Digest != want.digest(res)
}

// desiredNotice says what Fly must be told, if anything: "deleted" once
// torn down; "created" for an extension Fly did not create itself and has
// not heard of; "updated" with the new config once the Extension
// controller asks for rotated credentials to be announced; "updated" when
// what Fly last acknowledged differs.
func (r *Reconciler) desiredNotice(ext *jetwayv1.Extension, res domain.Resource) (notice, bool) {
	n := ext.Status.Notification
	if !ext.DeletionTimestamp.IsZero() {
		return notice{action: webhook.ActionDeleted}, n == nil || n.Acknowledged == nil || n.Acknowledged.Action != webhook.ActionDeleted
	}
	if n == nil || n.Acknowledged == nil {
		if n != nil && n.Pending != nil && n.Pending.Action == webhook.ActionCreated {
			return notice{action: webhook.ActionCreated}, true
		}
		if ext.Annotations[jetwayv1.AnnotationOrigin] != jetwayv1.OriginFly {
			return notice{action: webhook.ActionCreated}, true
		}
	}
	if rev := credentialsToAnnounce(ext); rev != "" {
		return notice{action: webhook.ActionUpdated, credentialsRevision: rev}, true
	}
	if n == nil || n.Acknowledged == nil {
		// Fly created it, and its provisioning answer already said "pending".
		return notice{action: webhook.ActionUpdated}, res.Status != jetwayv1.PhasePending
	}
	// What Fly acknowledged last is compared as it was sent, rotated
	// credentials included, so their announcement is not followed by a
	// second resource.updated saying nothing new.
	last := notice{action: webhook.ActionUpdated, credentialsRevision: ptr.Deref(n.Acknowledged.CredentialsRevision, "")}
	return notice{action: webhook.ActionUpdated}, n.Acknowledged.Digest != last.digest(res)
}

// credentialsToAnnounce is the revision of rotated credentials Fly must
// be sent the config of, or "": the Extension controller asks once every
// machine accepts them, and it is asked until Fly has answered.
func credentialsToAnnounce(ext *jetwayv1.Extension) string {
	st := ext.Status.Credentials
	if st == nil || st.Announce == nil {
		return ""
	}
	if n := ext.Status.Notification; n != nil && n.Credentials != nil && n.Credentials.Revision == *st.Announce {
		return ""
	}
	return *st.Announce
}

// deliver makes one attempt at the pending notification (starting a new one
// when what Fly must hear changed) and records the outcome in status. It
// returns how long until the next attempt.
func (r *Reconciler) deliver(ctx context.Context, ext *jetwayv1.Extension, want notice, res domain.Resource) (time.Duration, error) {
	now := r.now()
	if ext.Status.Notification == nil {
		ext.Status.Notification = &jetwayv1.NotificationStatus{}
	}
	n := ext.Status.Notification
	digest := want.digest(res)
	if p := n.Pending; p == nil || p.Digest != digest || p.Action != want.action {
		// A newer state supersedes one still being delivered: Fly needs
		// the latest, under a new delivery id since the content differs.
		n.Pending = &jetwayv1.PendingNotification{
			Notification: jetwayv1.Notification{DeliveryID: newDeliveryID(), Action: want.action, Digest: digest},
			Since:        metav1.NewTime(now),
		}
		if want.credentialsRevision != "" {
			n.Pending.CredentialsRevision = ptr.To(want.credentialsRevision)
		}
	}
	p := n.Pending
	if p.NextAttempt != nil && now.Before(p.NextAttempt.Time) {
		return p.NextAttempt.Sub(now), nil
	}
	if p.CredentialsRevision != nil {
		// Rendered for each attempt, never stored: the password lives
		// only in the credentials Secret.
		config, err := r.Settings.Domain.ConfigOf(ctx, r.Client, r.APIReader, ext)
		if err != nil {
			return 0, fmt.Errorf("render the rotated config: %w", err)
		}
		res.Config = config
	}
	err := r.Sender.Send(ctx, p.DeliveryID, p.Action, res)
	if err == nil {
		webhookAttempts.WithLabelValues(p.Action, "delivered").Inc()
		webhookLatency.WithLabelValues(p.Action).Observe(now.Sub(p.Since.Time).Seconds())
		settle(n, jetwayv1.AnnouncementAcknowledged, now)
		log.FromContext(ctx).Info("Fly acknowledged webhook", "action", p.Action, "delivery", p.DeliveryID)
		extstatus.MarkTrue(ext, jetwayv1.ConditionFlyNotified, jetwayv1.ReasonDelivered, "Fly acknowledged %s", p.Action)
		return 0, nil
	}
	if errors.Is(err, context.Canceled) {
		return 0, err
	}
	p.Attempts++
	p.LastError = err.Error()
	if permanent(err) {
		return 0, r.rejected(ctx, ext, err)
	}
	if now.Sub(p.Since.Time) >= r.Settings.GiveUpAfter {
		return 0, r.abandon(ctx, ext, err)
	}
	wait := r.backoff(p.Attempts, err)
	next := metav1.NewTime(now.Add(wait))
	p.NextAttempt = &next
	webhookAttempts.WithLabelValues(p.Action, "failed").Inc()
	if p.Attempts >= r.Settings.FailingAfter {
		if !meta.IsStatusConditionFalse(ext.Status.Conditions, jetwayv1.ConditionFlyNotified) {
			r.Recorder.Eventf(ext, nil, "Warning", jetwayv1.ReasonWebhookFailing, "Notify",
				"Fly has not acknowledged %s after %d attempts: %s", p.Action, p.Attempts, err)
		}
		extstatus.MarkFalse(ext, jetwayv1.ConditionFlyNotified, jetwayv1.ReasonWebhookFailing,
			"Fly has not acknowledged %s after %d attempts; retrying until %s", p.Action, p.Attempts,
			p.Since.Add(r.Settings.GiveUpAfter).UTC().Format(time.RFC3339))
	} else {
		extstatus.MarkFalse(ext, jetwayv1.ConditionFlyNotified, jetwayv1.ReasonDelivering, "Delivering %s to Fly", p.Action)
	}
	log.FromContext(ctx).Info("Webhook delivery failed; will retry", "action", p.Action, "attempt", p.Attempts, "wait", wait.String(), "error", err.Error())
	return wait, nil
}

// abandon stops retrying one notification after GiveUpAfter. It is recorded
// as acknowledged (with no time) so the next change starts afresh, and an
// event and the condition say Fly may be out of date.
func (r *Reconciler) abandon(ctx context.Context, ext *jetwayv1.Extension, err error) error {
	n := ext.Status.Notification
	p := n.Pending
	webhookAttempts.WithLabelValues(p.Action, "abandoned").Inc()
	settle(n, jetwayv1.AnnouncementAbandoned, r.now())
	msg := fmt.Sprintf("Gave up delivering %s to Fly after %d attempts over %s: %v", p.Action, p.Attempts, r.Settings.GiveUpAfter, err)
	r.Recorder.Eventf(ext, nil, "Warning", jetwayv1.ReasonWebhookAbandoned, "Notify", "%s", msg)
	extstatus.MarkFalse(ext, jetwayv1.ConditionFlyNotified, jetwayv1.ReasonWebhookAbandoned, "%s", msg)
	log.FromContext(ctx).Info("Abandoned webhook", "action", p.Action, "attempts", p.Attempts)
	return nil
}

// permanent reports an answer a retry cannot change: a 4xx other than
// 408 (timeout), 425 (too early) and 429 (slow down), and other than 401
// and 403, which say the signature is not accepted: while the webhook
// secret is rotated, Fly and Jetway are briefly out of step, and the
// retries deliver once they agree. Retrying a 400 for 72 h would hold a
// deletion (and Fly's DELETE at 202) that long for nothing.
func permanent(err error) bool {
	var we *webhook.Error
	if !errors.As(err, &we) || we.Status < 400 || we.Status > 499 {
		return false
	}
	switch we.Status {
	case http.StatusRequestTimeout, http.StatusTooEarly, http.StatusTooManyRequests,
		http.StatusUnauthorized, http.StatusForbidden:
		return false
	}
	return true
}

// rejected ends a notification Fly refused for good, as abandon does after
// GiveUpAfter: Fly's answer is in the condition and an event, the next
// change starts afresh, and a deletion waiting on resource.deleted
// finishes.
func (r *Reconciler) rejected(ctx context.Context, ext *jetwayv1.Extension, err error) error {
	n := ext.Status.Notification
	p := n.Pending
	webhookAttempts.WithLabelValues(p.Action, "rejected").Inc()
	settle(n, jetwayv1.AnnouncementRejected, r.now())
	msg := fmt.Sprintf("Fly refused %s and it is not sent again: %v", p.Action, err)
	r.Recorder.Eventf(ext, nil, "Warning", jetwayv1.ReasonWebhookRejected, "Notify", "%s", msg)
	extstatus.MarkFalse(ext, jetwayv1.ConditionFlyNotified, jetwayv1.ReasonWebhookRejected, "%s", msg)
	log.FromContext(ctx).Info("Fly refused a webhook for good", "action", p.Action, "error", err.Error())
	return nil
}

// settle ends the pending notification with outcome: it becomes the last
// one Fly heard (acknowledged at now only when Fly said so; an abandoned
// or rejected one too, so the next change starts afresh). What Fly
// answered a notification carrying rotated credentials is kept for the
// Extension controller: whether the previous may be revoked depends on it.
func settle(n *jetwayv1.NotificationStatus, outcome string, now time.Time) {
	p := n.Pending
	n.Acknowledged = &jetwayv1.Notification{DeliveryID: p.DeliveryID, Action: p.Action, Digest: p.Digest, CredentialsRevision: p.CredentialsRevision}
	if outcome == jetwayv1.AnnouncementAcknowledged {
		n.Acknowledged.At = ptr.To(metav1.NewTime(now))
	}
	if p.CredentialsRevision != nil {
		n.Credentials = &jetwayv1.CredentialsAnnouncement{Revision: *p.CredentialsRevision, Outcome: outcome, At: ptr.To(metav1.NewTime(now))}
	}
	n.Pending = nil
}

// backoff doubles from FirstRetry up to MaxRetryInterval with ±20% jitter,
// and never waits less than Fly's Retry-After.
func (r *Reconciler) backoff(attempts int32, err error) time.Duration {
	d := r.Settings.FirstRetry
	for i := int32(1); i < attempts && d < r.Settings.MaxRetryInterval; i++ {
		d *= 2
	}
	d = min(d, r.Settings.MaxRetryInterval)
	d = d*4/5 + time.Duration(rand.Int64N(int64(d)*2/5+1))
	var we *webhook.Error
	if errors.As(err, &we) && we.RetryAfter > d {
		d = we.RetryAfter
	}
	return d
}

func (r *Reconciler) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

func newDeliveryID() string {
	b := make([]byte, 12)
	_, _ = crand.Read(b)
	return hex.EncodeToString(b)
}

// SetupWithManager registers the controller. It watches every change, the
// status writes of the Extension controller included: those are what Fly
// must hear about.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&jetwayv1.Extension{}).
		WithOptions(controller.Options{MaxConcurrentReconciles: max(1, r.Settings.MaxConcurrentReconciles)}).
		Named("notifier").
		Complete(r)
}
