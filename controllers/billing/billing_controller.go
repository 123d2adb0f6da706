package billing

import (
	"context"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
	"github.com/jetway-dev/jetway/controllers/internal/ssa"
	"github.com/jetway-dev/jetway/internal/billing"
	"github.com/jetway-dev/jetway/internal/domain"
)

// FieldOwner is the field manager of everything this controller writes.
const FieldOwner = client.FieldOwner("jetway-billing-controller")

// Reconciler closes organizations' billing days.
type Reconciler struct {
	client.Client
	Settings billing.Settings
	// Resync is how often an organization's usage summary is refreshed;
	// the Extension controller's resync, since that is how often the
	// meter moves.
	Resync time.Duration
	// PollInterval is how soon a day waiting for proof is looked at again.
	PollInterval time.Duration
}

// +kubebuilder:rbac:groups=jetway.dev,resources=organizations,verbs=get;list;watch
// +kubebuilder:rbac:groups=jetway.dev,resources=organizations/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=jetway.dev,resources=usageledgers,verbs=get;list;watch;update;delete
// +kubebuilder:rbac:groups=jetway.dev,resources=billingdays,verbs=get;list;watch;create
// +kubebuilder:rbac:groups=jetway.dev,resources=extensions,verbs=get;list;watch

// Reconcile publishes the organization's ended days, prunes its ledgers
// and refreshes its usage summary.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	org := &jetwayv1.Organization{}
	if err := r.Get(ctx, req.NamespacedName, org); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	books, err := r.readBooks(ctx, org)
	if err != nil {
		return ctrl.Result{}, err
	}
	now := r.Settings.Now()
	closedThrough, waiting, err := r.publishEndedDays(ctx, org, books, now)
	if err != nil {
		return ctrl.Result{}, err
	}
	if err := r.pruneLedgers(ctx, books, now); err != nil {
		return ctrl.Result{}, err
	}
	if err := r.summarize(ctx, org, books, closedThrough, now); err != nil {
		return ctrl.Result{}, err
	}
	next := r.Resync
	if untilMidnight := billing.StartOf(billing.DateOf(now)).Add(billing.Day).Sub(now) + time.Second; untilMidnight < next {
		next = untilMidnight
	}
	if waiting && r.PollInterval < next {
		next = r.PollInterval
	}
	return ctrl.Result{RequeueAfter: next}, nil
}

// books are an organization's billing objects, as domain.BooksOf reads
// them from the cache (not copies: nothing here modifies them), and its
// extensions.
type books struct {
	billing.Books
	namespace  string
	extensions []jetwayv1.Extension
}

// readBooks reads the organization's ledgers, published days and
// extensions; ledgers and extensions wherever they live (GitOps may put
// extensions in any namespace).
func (r *Reconciler) readBooks(ctx context.Context, org *jetwayv1.Organization) (*books, error) {
	held, err := domain.BooksOf(ctx, r.Client, org)
	if err != nil {
		return nil, err
	}
	b := &books{Books: held, namespace: domain.Namespace(org.Spec.ID)}
	var exts jetwayv1.ExtensionList
	if err := r.List(ctx, &exts, client.MatchingFields{domain.IndexOrganizationID: org.Spec.ID}); err != nil {
		return nil, fmt.Errorf("list extensions: %w", err)
	}
	b.extensions = exts.Items
	return b, nil
}

// publishEndedDays closes every ended day some ledger may still hold,
// oldest first: a day no ledger covers has nothing to publish, and any
// other is published as a BillingDay once its usage is proven or its grace
// has run out. It returns the last day through which all are closed, and
// whether a day is waiting for proof.
func (r *Reconciler) publishEndedDays(ctx context.Context, org *jetwayv1.Organization, b *books, now time.Time) (string, bool, error) {
	today := billing.DateOf(now)
	yesterday := billing.DateOf(now.Add(-billing.Day))
	first := yesterday
	for _, l := range b.Ledgers {
		if l.Spec.OpenFrom < first {
			first = l.Spec.OpenFrom
		}
	}
	closedThrough := billing.DateOf(billing.StartOf(first).Add(-billing.Day))
	for day := first; day < today; day = billing.NextDate(day) {
		if b.Published[day] != nil {
			closedThrough = day
			continue
		}
		end := billing.StartOf(day).Add(billing.Day)
		unproven := r.unproven(b, day, end, now)
		covering := b.Covering(day)
		if len(covering) == 0 && unproven == "" {
			closedThrough = day // nothing was metered that day
			continue
		}
		if unproven != "" {
			if now.Before(end.Add(r.Settings.CloseGrace)) {
				log.FromContext(ctx).V(1).Info("Billing day waits for proof", "date", day, "waitingOn", unproven)
				return closedThrough, true, nil
			}
			log.FromContext(ctx).Info("Publishing a billing day whose usage is not proven to its end; the unproven time is not billed",
				"date", day, "unproven", unproven, "grace", r.Settings.CloseGrace.String())
		}
		bill := billing.Bill(day, covering, true)
		bd := &jetwayv1.BillingDay{
			ObjectMeta: metav1.ObjectMeta{Name: day, Namespace: b.namespace, Labels: map[string]string{
				jetwayv1.LabelManagedBy: jetwayv1.ManagedByJetway,
			}},
			Spec: jetwayv1.BillingDaySpec{
				OrganizationID: org.Spec.ID, Date: day, Currency: r.Settings.Currency,
				TotalMicros: bill.TotalMicros, UnprovenSeconds: bill.UnprovenSeconds,
				ClosedAt: metav1.NewTime(now.Truncate(time.Second)), Items: bill.Items,
			},
		}
		if err := r.Create(ctx, bd); err != nil && !apierrors.IsAlreadyExists(err) {
			return closedThrough, false, fmt.Errorf("publish billing day %s: %w", day, err)
		}
		log.FromContext(ctx).Info("Published billing day", "date", day, "totalMicros", bill.TotalMicros, "items", len(bill.Items))
		b.Published[day] = bd
		closedThrough = day
	}
	return closedThrough, false, nil
}

// unproven names what keeps day from being proven through end, or "".
func (r *Reconciler) unproven(b *books, day string, end, now time.Time) string {
	metered := map[string]bool{}
	for _, l := range b.Ledgers {
		metered[l.Spec.ExtensionID] = true
		if l.Spec.OpenFrom > day {
			continue
		}
		if through := billing.ProvenThrough(&l.Spec, now); through.Before(end) {
			return fmt.Sprintf("ledger %s proven through %s", l.Name, through.Format(time.RFC3339))
		}
	}
	// An extension with machines but no ledger yet has not been looked at
	// since metering began.
	for _, e := range b.extensions {
		if !metered[e.Spec.ID] && len(e.Status.Machines) > 0 && e.CreationTimestamp.Time.Before(end) {
			return fmt.Sprintf("extension %s not metered yet", e.Name)
		}
	}
	return ""
}

// pruneLedgers moves each ledger's openFrom past its published days and
// removes the ledgers of deleted extensions with nothing left to publish.
func (r *Reconciler) pruneLedgers(ctx context.Context, b *books, now time.Time) error {
	today := billing.DateOf(now)
	for i, l := range b.Ledgers {
		openFrom := l.Spec.OpenFrom
		for openFrom < today && b.Published[openFrom] != nil {
			openFrom = billing.NextDate(openFrom)
		}
		if l.Spec.DeletedAt != nil && !l.Spec.DeletedAt.After(billing.StartOf(openFrom)) {
			if err := r.Delete(ctx, l); client.IgnoreNotFound(err) != nil {
				return fmt.Errorf("remove usage ledger %s: %w", l.Name, err)
			}
			log.FromContext(ctx).Info("Removed the usage ledger of a deleted extension: its last day is published", "ledger", l.Name)
			continue
		}
		pruned := l.DeepCopy()
		if !billing.Prune(&pruned.Spec, openFrom) {
			continue
		}
		// A conflict means the meter wrote meanwhile: the next pass prunes
		// what it wrote.
		if err := r.Update(ctx, pruned); err != nil {
			return fmt.Errorf("prune usage ledger %s: %w", l.Name, err)
		}
		b.Ledgers[i] = pruned
	}
	return nil
}

// summarize writes today's and yesterday's totals to the Organization.
func (r *Reconciler) summarize(ctx context.Context, org *jetwayv1.Organization, b *books, closedThrough string, now time.Time) error {
	today := billing.DateOf(now)
	yesterday := billing.DateOf(now.Add(-billing.Day))
	usage := &jetwayv1.OrganizationUsage{
		Currency:      r.Settings.Currency,
		ClosedThrough: closedThrough,
		TodayMicros:   billing.Bill(today, b.Covering(today), false).TotalMicros,
	}
	if bd := b.Published[yesterday]; bd != nil {
		usage.YesterdayMicros = bd.Spec.TotalMicros
	} else {
		usage.YesterdayMicros = billing.Bill(yesterday, b.Covering(yesterday), false).TotalMicros
	}
	usage.Today = billing.FormatMicros(usage.TodayMicros, usage.Currency)
	usage.Yesterday = billing.FormatMicros(usage.YesterdayMicros, usage.Currency)
	if cur := org.Status.Usage; cur != nil && cur.TodayMicros == usage.TodayMicros &&
		cur.YesterdayMicros == usage.YesterdayMicros && cur.Currency == usage.Currency &&
		cur.ClosedThrough == usage.ClosedThrough {
		return nil
	}
	usage.UpdatedAt = metav1.NewTime(now.Truncate(time.Second))
	status := struct {
		Usage *jetwayv1.OrganizationUsage `json:"usage"`
	}{usage}
	if _, err := ssa.ApplyStatus(ctx, r.Client, org, FieldOwner, "", status); err != nil {
		return client.IgnoreNotFound(fmt.Errorf("apply organization usage: %w", err))
	}
	return nil
}

// SetupWithManager registers the controller.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		// Its own usage writes change no generation, and do not wake it.
		For(&jetwayv1.Organization{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Named("billing").
		Complete(r)
}
