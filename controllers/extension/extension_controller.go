// Package extension is the Extension controller: it reconciles each
// Extension against Fly (one app per extension, its machines, a Flycast IP)
// and its DNS record, and writes everything in status but what Fly was told
// by webhook (the notifier's). Its field manager is
// extstatus.ExtensionController.Manager.
package extension

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"golang.org/x/time/rate"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/recorder"
	"sigs.k8s.io/controller-runtime/pkg/source"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
	"github.com/jetway-dev/jetway/internal/billing"
	"github.com/jetway-dev/jetway/internal/dns/externaldns"
	"github.com/jetway-dev/jetway/internal/domain"
	"github.com/jetway-dev/jetway/internal/fly"
)

// Settings are the provider-wide choices the Extension controller needs.
type Settings struct {
	// Domain is the provider-wide naming every part of Jetway shares. Its
	// ClaimsNamespace is where a deleted extension's name claim is
	// released; empty releases none.
	Domain domain.Settings
	// DNSTTL is the TTL of extension records, in seconds.
	DNSTTL int64
	// Resync is how often a Ready extension is checked against Fly for
	// drift; each requeue is jittered by up to 20%.
	Resync time.Duration
	// FullCheck is how often a Ready, unchanged extension's app, app
	// secrets and Flycast address are checked on Fly, beyond its machines
	// (look.go); 0 checks everything on every pass.
	FullCheck time.Duration
	// PollInterval is how soon a pass that is waiting on Fly (machines
	// booting, an app being deleted) looks again.
	PollInterval time.Duration
	// MaxConcurrentReconciles bounds parallel passes.
	MaxConcurrentReconciles int
	// WedgedAfter is how long a machine may stay in a transient state
	// (starting, stopping, ...) before it counts as wedged: a wedged
	// replica is replaced, a wedged primary reported. 0 never judges.
	WedgedAfter time.Duration
	// StalledRecheck is how often a Stalled extension is tried again with
	// nothing changed: a token Fly rejected during its own incident, or an
	// app name someone else released, heals without an operator. 0 waits
	// for a change to the Extension or its plan.
	StalledRecheck time.Duration
	// Billing prices and times the usage the meter records on every look
	// (usage.go).
	Billing billing.Settings
	// MachineEventInterval is the least time between two looks at Fly that
	// machine events ask for, per extension (hintedLooks); default 1 s, the
	// most Fly allows an app's machine lists (1 request a second per
	// action): a new machine's events, a boot apart, each get a look
	// (P2 in make bench: +350 ms to Ready at 2 s), and a flood costs that
	// budget, not more; the client's own limiter then spaces the
	// controller's passes behind it.
	MachineEventInterval time.Duration
}

// Reconciler reconciles an Extension against Fly.
type Reconciler struct {
	client.Client
	// APIReader reads straight from the API server, for objects the
	// manager does not cache (Secrets) and for reads that must not be stale.
	APIReader client.Reader
	Scheme    *runtime.Scheme
	Fly       fly.Client
	Recorder  recorder.EventRecorder
	Settings  Settings

	// checks remembers when each extension was last checked in full.
	checks fullChecks
	// fleet bounds how many of a plan's extensions change at once.
	fleet fleetGate
}

// +kubebuilder:rbac:groups=jetway.dev,resources=extensions,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=jetway.dev,resources=extensions/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=jetway.dev,resources=extensions/finalizers,verbs=update
// +kubebuilder:rbac:groups=jetway.dev,resources=extensionplans,verbs=get;list;watch
// +kubebuilder:rbac:groups=jetway.dev,resources=usageledgers,verbs=get;list;watch;create;update
// Credentials Secrets: only in org namespaces, through domain.NamespaceAccess.
// +kubebuilder:rbac:groups=core,resources=configmaps,verbs=list;create;update
// +kubebuilder:rbac:groups=externaldns.k8s.io,resources=dnsendpoints,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconcile brings one Extension's Fly resources to what its spec asks for.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (result ctrl.Result, retErr error) {
	ext := &jetwayv1.Extension{}
	if err := r.Get(ctx, req.NamespacedName, ext); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	ctx = log.IntoContext(ctx, log.FromContext(ctx).WithValues("extension", klog.KObj(ext), "flyID", ext.Spec.ID))
	if ext.Annotations[jetwayv1.AnnotationPaused] == "true" {
		// Removing the annotation is a change the predicates let through.
		log.FromContext(ctx).V(1).Info("Paused; leaving it as it is")
		return ctrl.Result{}, nil
	}

	if !ext.DeletionTimestamp.IsZero() {
		return r.reconcileDelete(ctx, ext)
	}
	// The finalizer is saved before anything exists on Fly, so nothing can
	// be created that a deletion would not clean up.
	if !controllerutil.ContainsFinalizer(ext, jetwayv1.Finalizer) {
		patch := client.MergeFromWithOptions(ext.DeepCopy(), client.MergeFromWithOptimisticLock{})
		controllerutil.AddFinalizer(ext, jetwayv1.Finalizer)
		return ctrl.Result{}, r.Patch(ctx, ext, patch)
	}

	status := r.statusWriter(ext.DeepCopy())
	initConditions(ext)
	defer func() {
		result, retErr = r.finishPass(ctx, status, ext, result, retErr)
	}()
	return r.reconcileNormal(ctx, ext, status)
}

// reconcileNormal runs the steps in dependency order. A step that is not
// done yet says how soon to look again; its successors still run when they
// can, so one slow machine does not hold back the DNS record.
func (r *Reconciler) reconcileNormal(ctx context.Context, ext *jetwayv1.Extension, status *statusWriter) (ctrl.Result, error) {
	ext.Status.AppName = r.Settings.Domain.AppName(ext.Spec.ID)
	ext.Status.DNSName = r.Settings.Domain.DNSName(ext.Spec.Name)
	if err := r.checkNameIsOurs(ctx, ext); err != nil {
		return ctrl.Result{}, err
	}

	deps, err := r.loadDependencies(ctx, ext)
	if err != nil {
		return ctrl.Result{}, err
	}
	// See look.go: a Ready, unchanged extension costs one Fly call.
	started := time.Now()
	full := r.checks.due(ext, r.Settings.FullCheck, r.Settings.Resync, started)
	if full {
		if err := r.reconcileApp(ctx, ext, deps); err != nil {
			return ctrl.Result{}, err
		}
	}
	if err := r.ensureOptionSecrets(ctx, ext); err != nil {
		return ctrl.Result{}, err
	}
	overlap, err := r.reconcileRotation(ctx, ext, deps)
	if err != nil {
		return ctrl.Result{}, err
	}
	waits := []time.Duration{overlap}
	// A restore replaces machines itself; it goes first (restore.go).
	restoring, err := r.reconcileRestore(ctx, ext, deps, status)
	if err != nil {
		return ctrl.Result{}, err
	}
	waits = append(waits, restoring)
	wait, err := r.reconcileMachines(ctx, ext, deps, status)
	if err != nil && !full && errors.Is(err, fly.ErrNotFound) {
		// The app itself is gone: a look is not enough.
		log.FromContext(ctx).Info("Fly app not found on a look; checking the extension in full", "app", ext.Status.AppName)
		full = true
		if err := r.reconcileApp(ctx, ext, deps); err != nil {
			return ctrl.Result{}, err
		}
		wait, err = r.reconcileMachines(ctx, ext, deps, status)
	}
	if err != nil {
		return ctrl.Result{}, err
	}
	waits = append(waits, wait)
	advanceRotation(ext, deps.plan, deps.rotation)
	if full {
		if err := r.reconcileNetwork(ctx, ext, deps); err != nil {
			return ctrl.Result{}, err
		}
		// Also where a volume create that landed late is found.
		if err := r.removeExtraVolumes(ctx, ext, deps, true); err != nil {
			return ctrl.Result{}, err
		}
	}
	if err := r.reconcileDNS(ctx, ext); err != nil {
		return ctrl.Result{}, err
	}
	if err := r.meterVolumesOnCheck(ctx, ext, deps, full); err != nil {
		return ctrl.Result{}, err
	}
	if full {
		r.checks.done(ext, started)
	}
	return ctrl.Result{RequeueAfter: r.nextLook(waits...)}, nil
}

// nextLook is the shortest wait any step asked for, or the jittered resync.
func (r *Reconciler) nextLook(waits ...time.Duration) time.Duration {
	next := time.Duration(0)
	for _, w := range waits {
		if w > 0 && (next == 0 || w < next) {
			next = w
		}
	}
	if next > 0 {
		return next
	}
	return jitter(r.Settings.Resync)
}

// wakeupBuffer bounds the fleet gate's pending wake-ups; one that does not
// fit waits for the resync.
const wakeupBuffer = 4096

// maxRetryBackoff caps the exponential backoff of failing passes (the
// default's cap is 16 minutes): a failure must reach Fly as error soon
// after the plan's progressDeadline, and a recovered Fly be noticed within
// a minute. Fly's own rate limits are kept by the client (internal/fly).
const maxRetryBackoff = time.Minute

// retryLimiter is controller-runtime's default rate limiter with the
// backoff capped at maxRetryBackoff.
func retryLimiter() workqueue.TypedRateLimiter[reconcile.Request] {
	return workqueue.NewTypedMaxOfRateLimiter(
		workqueue.NewTypedItemExponentialFailureRateLimiter[reconcile.Request](5*time.Millisecond, maxRetryBackoff),
		&workqueue.TypedBucketRateLimiter[reconcile.Request]{Limiter: rate.NewLimiter(rate.Limit(10), 100)},
	)
}

func jitter(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return d + time.Duration(rand.Int64N(int64(d)/5+1))
}

// finishPass derives the summary conditions and writes status once, if it
// changed (see statusWriter). Terminal errors become Stalled and wait for a
// change or the slow StalledRecheck instead of backing off; a 429 waits as
// long as Fly asked; other errors go back to the workqueue for exponential
// backoff, with the condition saying why. A failing Fly therefore causes no
// status-write storm: a retry that fails the same way changes nothing.
func (r *Reconciler) finishPass(ctx context.Context, status *statusWriter, ext *jetwayv1.Extension, result ctrl.Result, err error) (ctrl.Result, error) {
	stalled, isTerminal := asTerminal(err)
	if err == nil || isTerminal {
		// The pass acted on this generation to the end (or as far as it
		// ever can): kstatus may now judge it.
		ext.Status.ObservedGeneration = ext.Generation
	}
	failing := err != nil && !isTerminal
	if stalled == nil {
		stalled = stuck(ext)
	}
	now := time.Now()
	trackFailing(ext, failing, now)
	plan, _ := domain.ResolvePlan(ctx, r.Client, ext.Spec.Plan) // nil: the default deadline
	summarize(ext, stalled, func(why string) (string, bool) { return pastDeadline(ext, progressDeadline(plan), now, why) })
	if perr := status.write(ctx, ext, failing); perr != nil && !apierrors.IsNotFound(perr) {
		return ctrl.Result{}, errors.Join(err, fmt.Errorf("apply status: %w", perr))
	}
	switch wait, limited := rateLimited(err); {
	case err == nil:
		return result, nil
	case isTerminal:
		r.Recorder.Eventf(ext, nil, "Warning", stalled.reason, "Reconcile", "%s", stalled.message)
		if r.Settings.StalledRecheck > 0 {
			// Not a TerminalError: that would drop the key for good. A
			// slow timer costs one pass per extension per interval, and
			// the status is not rewritten while the cause stays the same.
			log.FromContext(ctx).Info("Stalled; will try again later", "reason", stalled.reason,
				"error", err.Error(), "after", r.Settings.StalledRecheck.String())
			return ctrl.Result{RequeueAfter: jitter(r.Settings.StalledRecheck)}, nil
		}
		return ctrl.Result{}, reconcile.TerminalError(err)
	case limited:
		log.FromContext(ctx).Info("Fly rate-limited the pass; waiting as asked", "wait", wait.String())
		return ctrl.Result{RequeueAfter: wait}, nil
	default:
		if !errors.Is(err, context.Canceled) {
			log.FromContext(ctx).Info("Reconcile will be retried", "error", err.Error())
		}
		return ctrl.Result{}, err
	}
}

// extensionsOnPlan lists the extensions a plan event concerns: those that
// name the plan, and every one without a plan when it is a default plan.
func (r *Reconciler) extensionsOnPlan(ctx context.Context, obj client.Object) []reconcile.Request {
	plan, ok := obj.(*jetwayv1.ExtensionPlan)
	if !ok {
		return nil
	}
	var exts jetwayv1.ExtensionList
	if err := r.List(ctx, &exts); err != nil {
		log.FromContext(ctx).Error(err, "Listing extensions for a plan change failed", "plan", plan.Name)
		return nil
	}
	var out []reconcile.Request
	for _, e := range exts.Items {
		if onPlan(&e, plan) {
			out = append(out, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&e)})
		}
	}
	return out
}

// onPlan reports whether e runs on plan: it names the plan, or names none
// and plan is a default plan.
func onPlan(e *jetwayv1.Extension, plan *jetwayv1.ExtensionPlan) bool {
	return e.Spec.Plan == plan.Name || (e.Spec.Plan == "" && plan.Spec.Default)
}

// SetupWithManager registers the controller. Status writes do not change
// generation, so our own status patches do not trigger new passes.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	wakeups := make(chan event.TypedGenericEvent[*jetwayv1.Extension], wakeupBuffer)
	r.fleet.wake = func(key types.NamespacedName) {
		ext := &jetwayv1.Extension{}
		ext.Namespace, ext.Name = key.Namespace, key.Name
		select {
		case wakeups <- event.TypedGenericEvent[*jetwayv1.Extension]{Object: ext}:
		default: // full: the resync looks at it instead
		}
	}
	return ctrl.NewControllerManagedBy(mgr).
		For(&jetwayv1.Extension{}, builder.WithPredicates(predicate.Or(
			predicate.GenerationChangedPredicate{},
			annotationsChangedBesidesHint{},
			finalizersChanged{},
			flyAnsweredCredentials{},
		))).
		// Fly's machine events, passed on by the gateway, at most one look
		// per interval.
		Watches(&jetwayv1.Extension{}, &hintedLooks{interval: cmp.Or(r.Settings.MachineEventInterval, defaultEventInterval)}).
		Owns(&externaldns.DNSEndpoint{}).
		// A plan change (new image, a plan created that a Stalled extension
		// waits for) must reach the extensions on that plan.
		Watches(&jetwayv1.ExtensionPlan{}, handler.EnqueueRequestsFromMapFunc(r.extensionsOnPlan),
			builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		// A deleted Extension frees its DNS name for the next in line.
		Watches(&jetwayv1.Extension{}, handler.EnqueueRequestsFromMapFunc(r.namePeers),
			builder.WithPredicates(onlyDeletes)).
		// Extensions the fleet gate refused, woken when a place frees.
		WatchesRawSource(source.Channel(wakeups, &handler.TypedEnqueueRequestForObject[*jetwayv1.Extension]{})).
		WithOptions(controller.Options{
			MaxConcurrentReconciles: max(1, r.Settings.MaxConcurrentReconciles),
			RateLimiter:             retryLimiter(),
		}).
		Named("extension").
		Complete(r)
}
