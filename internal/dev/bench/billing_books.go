package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
	"github.com/jetway-dev/jetway/internal/billing"
	"github.com/jetway-dev/jetway/internal/domain"
)

// P9's books are written straight to the API server as the controllers
// would have left them after a month of metering, so the figure needs no
// thousand machines on flysim: the billing GET reads only the Organization,
// the UsageLedgers (by their spec.organizationID index) and the
// BillingDays in the organization's namespace, never an Extension
// (internal/gateway/billing.go, domain.BooksOf). The ended days are
// computed with billing.Bill over ledgers that cover the whole month, as
// the billing controller computes them when it closes a day, and the
// stored ledgers are those ledgers pruned to today, as it prunes them.

const (
	booksOrg      = "bench-billing"
	booksSize     = "shared-cpu-1x"
	booksCurrency = "USD"
	// booksPrice is the default plan's machineHourMicros
	// (config/samples/jetway_v1alpha1_extensionplan.yaml).
	booksPrice = 2700
	// Every replicaEvery-th extension also has a read replica in
	// booksReplicaRegion that runs office hours, replicaFrom to replicaTo
	// UTC each day: a second item on each of its days.
	replicaEvery       = 10
	booksReplicaRegion = "ams"
	replicaFrom        = 9 * time.Hour
	replicaTo          = 17 * time.Hour
)

// primaryRegions are the regions the extensions' primaries are spread over.
var primaryRegions = []string{"iad", "ord", "lhr", "syd", "nrt"}

// books is what P9 seeded, and what a full answer must hold.
type books struct {
	orgID     string
	from, to  string // the first and last day the figure reads
	ledgers   int
	published int // days published
	items     int // items over every day read, today's from the ledgers
	dayBytes  int // the largest BillingDay as JSON, metadata included
	dayItems  int // the items of that day
}

// seedBooks writes an organization with n extensions' usage over days
// days: days-1 ended days published as BillingDays, today in the ledgers.
// now is the moment of the ledgers' last look.
func seedBooks(ctx context.Context, s *stack, n, days int, now time.Time) (*books, error) {
	now = now.UTC().Truncate(time.Millisecond)
	today := billing.DateOf(now)
	first := billing.DateOf(now.Add(-time.Duration(days-1) * billing.Day))
	b := &books{orgID: booksOrg, from: first, to: today, ledgers: n}
	ns := domain.Namespace(b.orgID)

	org := &jetwayv1.Organization{
		ObjectMeta: metav1.ObjectMeta{Name: domain.OrganizationName(b.orgID)},
		Spec:       jetwayv1.OrganizationSpec{ID: b.orgID, DisplayName: "Bench billing"},
	}
	if err := s.k8s.Create(ctx, org); err != nil {
		return nil, fmt.Errorf("create organization: %w", err)
	}
	// The Organization controller makes the namespace too; the days
	// cannot wait for it.
	if err := s.k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil && !apierrors.IsAlreadyExists(err) {
		return nil, fmt.Errorf("create namespace %s: %w", ns, err)
	}

	month := make([]*jetwayv1.UsageLedger, n)
	for i := range month {
		month[i] = monthLedger(i, b.orgID, ns, first, now)
	}
	var objs []client.Object
	var published []*jetwayv1.BillingDay
	for day := first; day < today; day = billing.NextDate(day) {
		bd := publishedDay(b.orgID, ns, day, month, now)
		b.items += len(bd.Spec.Items)
		published = append(published, bd)
		objs = append(objs, bd)
	}
	b.published = len(published)
	for _, l := range month {
		stored := l.DeepCopy()
		billing.Prune(&stored.Spec, today)
		objs = append(objs, stored)
	}
	todayBill := billing.Bill(today, month, false)
	b.items += len(todayBill.Items)
	if err := createAll(ctx, s.k8s, objs, 16); err != nil {
		return nil, err
	}
	for _, bd := range published {
		// What etcd holds for the day: its JSON with the metadata the
		// API server added (managedFields included).
		raw, err := json.Marshal(bd)
		if err != nil {
			return nil, err
		}
		if len(raw) > b.dayBytes {
			b.dayBytes, b.dayItems = len(raw), len(bd.Spec.Items)
		}
	}

	// status.usage as the billing controller's summarize writes it after
	// publishing yesterday. The controller runs in the manager and will
	// write it again on its own; the figure must not depend on when.
	yesterday := published[len(published)-1].Spec.TotalMicros
	patch := client.MergeFrom(org.DeepCopy())
	org.Status.Usage = &jetwayv1.OrganizationUsage{
		Currency: booksCurrency, TodayMicros: todayBill.TotalMicros, YesterdayMicros: yesterday,
		Today:         billing.FormatMicros(todayBill.TotalMicros, booksCurrency),
		Yesterday:     billing.FormatMicros(yesterday, booksCurrency),
		ClosedThrough: billing.DateOf(now.Add(-billing.Day)), UpdatedAt: metav1.NewTime(now.Truncate(time.Second)),
	}
	if err := s.k8s.Status().Patch(ctx, org, patch); err != nil {
		return nil, fmt.Errorf("write organization usage: %w", err)
	}
	return b, nil
}

// monthLedger is extension i's ledger as the meter would have it had the
// billing controller never pruned it: metered since the start of first,
// last looked at now.
func monthLedger(i int, orgID, ns, first string, now time.Time) *jetwayv1.UsageLedger {
	id := fmt.Sprintf("bill-%04d", i)
	start := billing.StartOf(first)
	proven := metav1.NewMicroTime(now)
	primary := jetwayv1.MachineUsage{
		ID: id + "-primary", Region: primaryRegions[i%len(primaryRegions)],
		LastEvent:     &jetwayv1.MeteredEvent{At: metav1.NewMicroTime(start), Seen: 1, Status: "started"},
		ProvenThrough: &proven,
		Segments: []jetwayv1.UsageSegment{{From: metav1.NewMicroTime(start), To: proven,
			Size: booksSize, UnitPriceMicrosPerHour: booksPrice}},
	}
	l := &jetwayv1.UsageLedger{
		ObjectMeta: metav1.ObjectMeta{Name: domain.UsageLedgerName(id), Namespace: ns,
			Labels: map[string]string{jetwayv1.LabelManagedBy: jetwayv1.ManagedByJetway}},
		Spec: jetwayv1.UsageLedgerSpec{ExtensionID: id, ExtensionName: id, OrganizationID: orgID,
			OpenFrom: first, Machines: []jetwayv1.MachineUsage{primary}},
	}
	if i%replicaEvery == 0 {
		l.Spec.Machines = append(l.Spec.Machines, officeHoursReplica(id+"-replica", start, now))
	}
	return l
}

// officeHoursReplica runs replicaFrom to replicaTo every day from start to
// now, its last event the last start or stop before now.
func officeHoursReplica(id string, start, now time.Time) jetwayv1.MachineUsage {
	proven := metav1.NewMicroTime(now)
	mu := jetwayv1.MachineUsage{ID: id, Region: booksReplicaRegion, ProvenThrough: &proven}
	for day := start; day.Before(now); day = day.Add(billing.Day) {
		on, off := day.Add(replicaFrom), day.Add(replicaTo)
		if !on.Before(now) {
			break
		}
		event := jetwayv1.MeteredEvent{At: metav1.NewMicroTime(on), Seen: 1, Status: "started"}
		if off.Before(now) {
			event = jetwayv1.MeteredEvent{At: metav1.NewMicroTime(off), Seen: 1, Status: "stopped"}
		}
		mu.LastEvent = &event
		mu.Segments = append(mu.Segments, jetwayv1.UsageSegment{From: metav1.NewMicroTime(on),
			To: metav1.NewMicroTime(minTime(off, now)), Size: booksSize, UnitPriceMicrosPerHour: booksPrice})
	}
	return mu
}

// publishedDay is day as the billing controller publishes it from the
// month's ledgers, a few minutes after the day's end.
//
// Size: a day of 1,100 items (1,000 extensions, 100 with a replica) is
// 206 KB of JSON in etcd, 187 bytes an item with nine-character ids and
// names, so etcd's default request limit of 1.5 MiB holds a day of about
// 8,400 such items, while the CRD allows 100,000: an organization with
// more item rows a day than that cannot have the day published. P9 prints
// the size it measured.
func publishedDay(orgID, ns, day string, month []*jetwayv1.UsageLedger, now time.Time) *jetwayv1.BillingDay {
	bill := billing.Bill(day, month, true)
	closedAt := minTime(billing.StartOf(day).Add(billing.Day+5*time.Minute), now)
	return &jetwayv1.BillingDay{
		ObjectMeta: metav1.ObjectMeta{Name: day, Namespace: ns,
			Labels: map[string]string{jetwayv1.LabelManagedBy: jetwayv1.ManagedByJetway}},
		Spec: jetwayv1.BillingDaySpec{OrganizationID: orgID, Date: day, Currency: booksCurrency,
			TotalMicros: bill.TotalMicros, UnprovenSeconds: bill.UnprovenSeconds,
			ClosedAt: metav1.NewTime(closedAt.Truncate(time.Second)), Items: bill.Items},
	}
}

// createAll creates objs with workers creates in flight.
func createAll(ctx context.Context, c client.Client, objs []client.Object, workers int) error {
	var (
		next  atomic.Int64
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(objs) {
					return
				}
				mu.Lock()
				failed := first != nil
				mu.Unlock()
				if failed {
					return
				}
				if err := c.Create(ctx, objs[i]); err != nil {
					mu.Lock()
					first = errors.Join(first, fmt.Errorf("create %T %s: %w", objs[i], objs[i].GetName(), err))
					mu.Unlock()
					return
				}
			}
		}()
	}
	wg.Wait()
	return first
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
