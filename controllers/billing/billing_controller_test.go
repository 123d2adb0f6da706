package billing

import (
	"context"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
	"github.com/jetway-dev/jetway/internal/billing"
	"github.com/jetway-dev/jetway/internal/domain"
)

// These are unit tests of the closing rules on a fake client; the
// integration suite runs the controller against a real API server.

const orgID = "acme"

var midnight = billing.StartOf("2026-12-06")

func mt(t time.Time) metav1.MicroTime { return metav1.NewMicroTime(t) }
func mtp(t time.Time) *metav1.MicroTime {
	m := mt(t)
	return &m
}

// runningLedger is a ledger of one machine running since an hour before
// midnight, proven through provenThrough.
func runningLedger(name string, provenThrough time.Time) *jetwayv1.UsageLedger {
	start := midnight.Add(-time.Hour)
	return &jetwayv1.UsageLedger{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: domain.Namespace(orgID)},
		Spec: jetwayv1.UsageLedgerSpec{
			ExtensionID: name, ExtensionName: name, OrganizationID: orgID, OpenFrom: "2026-12-05",
			Machines: []jetwayv1.MachineUsage{{
				ID: "m-" + name, Region: "iad",
				LastEvent:     &jetwayv1.MeteredEvent{At: mt(start), Seen: 1, Status: "started"},
				ProvenThrough: mtp(provenThrough),
				Segments: []jetwayv1.UsageSegment{{From: mt(start), To: mt(provenThrough),
					Size: "shared-cpu-1x", UnitPriceMicrosPerHour: 3600}},
			}},
		},
	}
}

func newReconciler(t *testing.T, now time.Time, objs ...client.Object) (*Reconciler, client.Client) {
	t.Helper()
	scheme := runtime.NewScheme()
	if err := jetwayv1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	org := &jetwayv1.Organization{ObjectMeta: metav1.ObjectMeta{Name: domain.OrganizationName(orgID)}, Spec: jetwayv1.OrganizationSpec{ID: orgID}}
	c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(append(objs, org)...).WithStatusSubresource(org).
		WithIndex(&jetwayv1.UsageLedger{}, domain.IndexLedgerOrganization, func(o client.Object) []string {
			return []string{o.(*jetwayv1.UsageLedger).Spec.OrganizationID}
		}).
		WithIndex(&jetwayv1.Extension{}, domain.IndexOrganizationID, func(o client.Object) []string {
			return []string{o.(*jetwayv1.Extension).Spec.Organization.ID}
		}).Build()
	return &Reconciler{Client: c, Settings: billing.Settings{Currency: "USD", CloseGrace: time.Hour, Clock: func() time.Time { return now }},
		Resync: time.Minute, PollInterval: time.Second}, c
}

func reconcile(t *testing.T, r *Reconciler) ctrl.Result {
	t.Helper()
	res, err := r.Reconcile(context.Background(), ctrl.Request{NamespacedName: client.ObjectKey{Name: domain.OrganizationName(orgID)}})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func days(t *testing.T, c client.Client) map[string]jetwayv1.BillingDay {
	t.Helper()
	var list jetwayv1.BillingDayList
	if err := c.List(context.Background(), &list); err != nil {
		t.Fatal(err)
	}
	out := map[string]jetwayv1.BillingDay{}
	for _, d := range list.Items {
		out[d.Name] = d
	}
	return out
}

func TestDayWaitsForProofPastMidnight(t *testing.T) {
	// Ten minutes after midnight, the machine is proven only to 23:59.
	r, c := newReconciler(t, midnight.Add(10*time.Minute), runningLedger("db", midnight.Add(-time.Minute)))
	if res := reconcile(t, r); res.RequeueAfter != time.Second {
		t.Fatalf("requeue after %v, want the poll interval while a day waits", res.RequeueAfter)
	}
	if d := days(t, c); len(d) != 0 {
		t.Fatalf("published %v before the day was proven", d)
	}
	org := &jetwayv1.Organization{}
	_ = c.Get(context.Background(), client.ObjectKey{Name: domain.OrganizationName(orgID)}, org)
	if org.Status.Usage == nil || org.Status.Usage.ClosedThrough != "2026-12-04" {
		t.Fatalf("usage = %+v, want closedThrough the day before the open one", org.Status.Usage)
	}
}

func TestProvenDayIsPublishedAndPruned(t *testing.T) {
	now := midnight.Add(10 * time.Minute)
	r, c := newReconciler(t, now, runningLedger("db", midnight.Add(5*time.Minute)))
	reconcile(t, r)
	d, ok := days(t, c)["2026-12-05"]
	if !ok {
		t.Fatal("the proven day was not published")
	}
	// An hour before midnight at 3,600 micro-units an hour.
	if d.Spec.TotalMicros != 3600 || len(d.Spec.Items) != 1 || d.Spec.Items[0].QuantitySeconds != 3600 || d.Spec.UnprovenSeconds != 0 {
		t.Fatalf("day = %+v", d.Spec)
	}
	l := &jetwayv1.UsageLedger{}
	_ = c.Get(context.Background(), client.ObjectKey{Namespace: domain.Namespace(orgID), Name: "db"}, l)
	if l.Spec.OpenFrom != "2026-12-06" || !l.Spec.Machines[0].Segments[0].From.Equal(mtp(midnight)) {
		t.Fatalf("ledger not pruned to the open day: %+v", l.Spec)
	}
	// Publishing again changes nothing.
	before := d.ResourceVersion
	reconcile(t, r)
	if after := days(t, c)["2026-12-05"].ResourceVersion; after != before {
		t.Fatal("a published day was written again")
	}
}

func TestGraceRunsOutAndTheUnprovenTimeIsNotBilled(t *testing.T) {
	// Two hours after midnight, the machine still proven only to 23:30.
	r, c := newReconciler(t, midnight.Add(2*time.Hour), runningLedger("db", midnight.Add(-30*time.Minute)))
	reconcile(t, r)
	d, ok := days(t, c)["2026-12-05"]
	if !ok {
		t.Fatal("the day was not published after its grace")
	}
	if d.Spec.Items[0].QuantitySeconds != 1800 || d.Spec.UnprovenSeconds != 1800 {
		t.Fatalf("day = %+v, want 30 min billed and 30 min unproven", d.Spec)
	}
}

func TestDeletedExtensionsLedgerGoesOnceItsLastDayIsPublished(t *testing.T) {
	l := runningLedger("gone", midnight.Add(-10*time.Minute))
	l.Spec.DeletedAt = mtp(midnight.Add(-10 * time.Minute))
	l.Spec.Machines[0].GoneAt = l.Spec.DeletedAt
	r, c := newReconciler(t, midnight.Add(time.Minute), l)
	reconcile(t, r)
	if d := days(t, c)["2026-12-05"]; d.Spec.TotalMicros != 3000 {
		t.Fatalf("day = %+v, want 50 minutes billed", d.Spec)
	}
	var ledgers jetwayv1.UsageLedgerList
	_ = c.List(context.Background(), &ledgers)
	if len(ledgers.Items) != 0 {
		t.Fatalf("the deleted extension's ledger is still there: %+v", ledgers.Items)
	}
}

// withVolume adds to l a 10 GB volume, made two hours before midnight at
// 360 micro-units a GB-hour (one per 10 GB-seconds), seen last at seen.
func withVolume(l *jetwayv1.UsageLedger, seen time.Time) *jetwayv1.UsageLedger {
	created := midnight.Add(-2 * time.Hour)
	l.Spec.Volumes = []jetwayv1.VolumeUsage{{
		ID: "vol-" + l.Name, Region: "iad", CreatedAt: mt(created), ProvenThrough: mtp(seen),
		Segments: []jetwayv1.VolumeSegment{{From: mt(created), To: mt(seen), SizeGB: 10, UnitPriceMicrosPerGBHour: 360}},
	}}
	return l
}

func TestDayWaitsForItsVolumesToo(t *testing.T) {
	// The machine is proven past midnight, its volume only to 23:00.
	l := withVolume(runningLedger("db", midnight.Add(5*time.Minute)), midnight.Add(-time.Hour))
	r, c := newReconciler(t, midnight.Add(10*time.Minute), l)
	reconcile(t, r)
	if d := days(t, c); len(d) != 0 {
		t.Fatalf("published %v before the volume was proven", d)
	}

	// Once the grace runs out, the hour after its last sighting is not billed.
	r, c = newReconciler(t, midnight.Add(2*time.Hour), withVolume(runningLedger("db", midnight.Add(5*time.Minute)), midnight.Add(-time.Hour)))
	reconcile(t, r)
	d := days(t, c)["2026-12-05"]
	if d.Spec.UnprovenSeconds != 3600 || d.Spec.TotalMicros != 3600+3600 {
		t.Fatalf("day = %+v, want an hour of machine and of 10 GB billed, an hour unproven", d.Spec)
	}
}

func TestDayWithAVolumeProvenPastMidnight(t *testing.T) {
	l := withVolume(runningLedger("db", midnight.Add(5*time.Minute)), midnight.Add(5*time.Minute))
	r, c := newReconciler(t, midnight.Add(10*time.Minute), l)
	reconcile(t, r)
	d, ok := days(t, c)["2026-12-05"]
	if !ok {
		t.Fatal("the proven day was not published")
	}
	want := jetwayv1.BillingItem{ExtensionID: "db", ExtensionName: "db", Meter: jetwayv1.MeterVolume, Size: "10GB", Region: "iad",
		QuantitySeconds: 7200, QuantityGBSeconds: 72000, UnitPriceMicrosPerHour: 360, AmountMicros: 7200}
	if len(d.Spec.Items) != 2 || d.Spec.Items[1] != want || d.Spec.TotalMicros != 3600+7200 || d.Spec.UnprovenSeconds != 0 {
		t.Fatalf("day = %+v, want the machine's hour and the volume's two hours at 10 GB", d.Spec)
	}
	pruned := &jetwayv1.UsageLedger{}
	_ = c.Get(context.Background(), client.ObjectKey{Namespace: domain.Namespace(orgID), Name: "db"}, pruned)
	if segs := pruned.Spec.Volumes[0].Segments; len(segs) != 1 || !segs[0].From.Equal(mtp(midnight)) {
		t.Fatalf("volume not pruned to the open day: %+v", segs)
	}
}
