package billing

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
	"github.com/jetway-dev/jetway/internal/billing"
	"github.com/jetway-dev/jetway/internal/domain"
)

// The plans the tests provision, and what an hour running costs on each.
const (
	standardPlan = "standard"
	largePlan    = "large"
	sleepyPlan   = "sleepy"
	// 3,600,000 micro-units an hour is 1,000 a second, so an amount is
	// its seconds times 1,000 and a wrong rounding shows.
	standardHourMicros = 3_600_000
	largeHourMicros    = 7_200_000
	standardSize       = "shared-cpu-1x"
	largeSize          = "shared-cpu-2x"
	// storedPlan is standardPlan with a 2 GB volume per machine, at
	// 360,000 micro-units a GB-hour: 100 a GB-second.
	storedPlan          = "stored"
	storedSizeGB        = 2
	volumeGBHourMicros  = 360_000
	volumeGBSecondMicro = volumeGBHourMicros / 3600
)

func createPlans(ctx context.Context) error {
	service := func(autostop string) []jetwayv1.ServiceSpec {
		return []jetwayv1.ServiceSpec{{Protocol: "tcp", InternalPort: 5432, Ports: []jetwayv1.PortSpec{{Port: 5432}},
			Autostop: autostop, Autostart: autostop != ""}}
	}
	conn := jetwayv1.ConnectionSpec{Config: map[string]string{"DB_URL": "postgres://{{.Host}}:{{.Port}}/db"}, Port: 5432}
	price := func(size string, micros int64) jetwayv1.PricingSpec {
		return jetwayv1.PricingSpec{Currency: "USD", MachineHourMicrosBySize: []jetwayv1.SizePrice{{Size: size, MachineHourMicros: micros}}}
	}
	for _, p := range []*jetwayv1.ExtensionPlan{
		{ObjectMeta: metav1.ObjectMeta{Name: standardPlan}, Spec: jetwayv1.ExtensionPlanSpec{
			Default: true, Image: "registry.example.com/db:1", Services: service(""), Connection: conn,
			Pricing: price(standardSize, standardHourMicros)}},
		{ObjectMeta: metav1.ObjectMeta{Name: largePlan}, Spec: jetwayv1.ExtensionPlanSpec{
			Image: "registry.example.com/db:1", Services: service(""), Connection: conn,
			Guest:   jetwayv1.GuestSpec{CPUKind: "shared", CPUs: 2, MemoryMB: 1024},
			Pricing: price(largeSize, largeHourMicros)}},
		{ObjectMeta: metav1.ObjectMeta{Name: sleepyPlan}, Spec: jetwayv1.ExtensionPlanSpec{
			Image: "registry.example.com/db:1", Services: service("stop"), Connection: conn,
			Pricing: price(standardSize, standardHourMicros)}},
		{ObjectMeta: metav1.ObjectMeta{Name: storedPlan}, Spec: jetwayv1.ExtensionPlanSpec{
			Image: "registry.example.com/db:1", Services: service(""), Connection: conn,
			Storage: &jetwayv1.StorageSpec{SizeGB: storedSizeGB, MountPath: "/data"},
			Pricing: withVolumePrice(price(standardSize, standardHourMicros), volumeGBHourMicros)}},
	} {
		if err := k8s.Create(ctx, p); err != nil {
			return fmt.Errorf("plan %s: %w", p.Name, err)
		}
	}
	return nil
}

func withVolumePrice(p jetwayv1.PricingSpec, micros int64) jetwayv1.PricingSpec {
	p.VolumeGBHourMicros = micros
	return p
}

func uniqueID(prefix string) string {
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return prefix + "-" + hex.EncodeToString(b)
}

// provision asks for an extension as Fly does and waits until it is Ready.
func provision(t *testing.T, id, org, plan string, readRegions ...string) *jetwayv1.Extension {
	t.Helper()
	req := map[string]any{
		"id": id, "name": "db-" + id, "organization_id": org, "organization_name": "Org " + org,
		"user_id": "user-" + org, "user_email": "alias-" + org + "@customer.fly.io", "user_role": "admin",
		"primary_region": "iad", "plan": plan,
	}
	if len(readRegions) > 0 {
		req["read_regions"] = readRegions
	}
	resp, err := flyAPI().Create(ctxFor(t), req)
	if err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST %s: %v %+v", id, err, resp)
	}
	return waitReady(t, id)
}

// extensionOf finds the Extension with Fly id flyID; nil once it is gone.
func extensionOf(ctx context.Context, flyID string) (*jetwayv1.Extension, error) {
	var list jetwayv1.ExtensionList
	if err := k8s.List(ctx, &list); err != nil {
		return nil, err
	}
	for i := range list.Items {
		if list.Items[i].Spec.ID == flyID {
			return &list.Items[i], nil
		}
	}
	return nil, nil
}

func waitReady(t *testing.T, flyID string) *jetwayv1.Extension {
	t.Helper()
	var ext *jetwayv1.Extension
	newG(t).Eventually(func(g gomega.Gomega) {
		var err error
		ext, err = extensionOf(ctxFor(t), flyID)
		g.Expect(err).NotTo(gomega.HaveOccurred())
		g.Expect(ext).NotTo(gomega.BeNil())
		g.Expect(meta.IsStatusConditionTrue(ext.Status.Conditions, jetwayv1.ConditionReady)).To(gomega.BeTrue(),
			"extension %s is not Ready: %+v", flyID, ext.Status.Conditions)
		g.Expect(ext.Status.ObservedGeneration).To(gomega.Equal(ext.Generation))
	}).Should(gomega.Succeed())
	return ext
}

// deleteExtension deletes as Fly does and waits until Jetway has torn the
// extension down (its machines' final usage metered first).
func deleteExtension(t *testing.T, flyID string) {
	t.Helper()
	resp, err := flyAPI().Delete(ctxFor(t), flyID)
	if err != nil || resp.StatusCode >= 300 {
		t.Fatalf("DELETE %s: %v %+v", flyID, err, resp)
	}
	newG(t).Eventually(func() (*jetwayv1.Extension, error) { return extensionOf(ctxFor(t), flyID) }).
		Should(gomega.BeNil(), "extension %s was not torn down", flyID)
}

// ledgerOf reads the extension's UsageLedger straight from the API server.
func ledgerOf(t *testing.T, ext *jetwayv1.Extension) *jetwayv1.UsageLedger {
	t.Helper()
	l := &jetwayv1.UsageLedger{}
	key := client.ObjectKey{Namespace: ext.Namespace, Name: domain.UsageLedgerName(ext.Spec.ID)}
	if err := k8s.Get(ctxFor(t), key, l); err != nil {
		t.Fatalf("ledger of %s: %v", ext.Spec.ID, err)
	}
	return l
}

// waitMeteredThrough waits until the meter has proven every machine of
// the extension through at least t0 (a look after t0 has been recorded).
func waitMeteredThrough(t *testing.T, ext *jetwayv1.Extension, t0 time.Time) {
	t.Helper()
	newG(t).Eventually(func(g gomega.Gomega) {
		l := ledgerOf(t, ext)
		g.Expect(l.Spec.Machines).NotTo(gomega.BeEmpty())
		g.Expect(billing.ProvenThrough(&l.Spec, clock.Now())).To(gomega.BeTemporally(">=", t0))
	}).Should(gomega.Succeed(), "the meter never proved %s's machines through %s", ext.Spec.ID, t0)
}

// freshDay moves the clock into a day no earlier test touched, at offset
// past its midnight, and returns the day.
func freshDay(offset time.Duration) string {
	day := billing.NextDate(billing.DateOf(clock.Now()))
	clock.JumpTo(billing.StartOf(day).Add(offset))
	return day
}

// closeDay moves the clock past the end of day (the next day's first
// minute, well inside the close grace) and waits until the organization's
// day is published, which needs every ledger proven to the day's end.
func closeDay(t *testing.T, org, day string) *jetwayv1.BillingDay {
	t.Helper()
	if end := billing.StartOf(day).Add(billing.Day); clock.Now().Before(end) {
		clock.JumpTo(end.Add(time.Minute))
	}
	bd := &jetwayv1.BillingDay{}
	key := client.ObjectKey{Namespace: domain.Namespace(org), Name: day}
	newG(t).Eventually(func() error { return k8s.Get(ctxFor(t), key, bd) }).
		Should(gomega.Succeed(), "billing day %s of %s was not published", day, org)
	return bd
}

// statement calls GET /billing as Fly does.
func statement(t *testing.T, org, from, to string) billing.Statement {
	t.Helper()
	resp, err := flyAPI().Do(ctxFor(t), http.MethodGet, "/billing", map[string]any{"organization_id": org, "from": from, "to": to})
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /billing %s %s..%s: %v %+v", org, from, to, err, resp)
	}
	var st billing.Statement
	if err := resp.JSON(&st); err != nil {
		t.Fatal(err)
	}
	return st
}

// truth is what flysim's uncapped state log says an app's machines ran on
// a day, and how many state changes into or out of started that day saw
// (each may cost the meter up to a second of rounding).
type truth struct {
	ran     time.Duration
	changes int
}

func truthOf(app, day string) truth {
	from := billing.StartOf(day)
	to := from.Add(billing.Day)
	var tr truth
	for _, m := range sim.AllMachineIDs() {
		if m.App != app {
			continue
		}
		tr.ran += sim.RunningTime(m.ID, from, to)
		prev := ""
		for _, c := range sim.StateHistory(m.ID) {
			if !c.At.Before(from) && c.At.Before(to) && (c.State == "started" || prev == "started") {
				tr.changes++
			}
			prev = c.State
		}
	}
	return tr
}

// billedSeconds sums a published day's machine seconds for an extension.
func billedSeconds(bd *jetwayv1.BillingDay, extensionID string) int64 {
	var s int64
	for _, it := range bd.Spec.Items {
		if it.ExtensionID == extensionID && it.Meter == jetwayv1.MeterMachine {
			s += it.QuantitySeconds
		}
	}
	return s
}

// expectBilledAsRan checks that a closed day bills the extension exactly
// what flysim says ran, within a second per state change.
func expectBilledAsRan(t *testing.T, bd *jetwayv1.BillingDay, ext *jetwayv1.Extension) truth {
	t.Helper()
	tr := truthOf(ext.Status.AppName, bd.Spec.Date)
	billed := time.Duration(billedSeconds(bd, ext.Spec.ID)) * time.Second
	slack := time.Duration(tr.changes+1) * time.Second
	t.Logf("%s on %s: billed %s, flysim says it ran %s (%d state changes)", ext.Spec.ID, bd.Spec.Date, billed, tr.ran, tr.changes)
	if d := billed - tr.ran; d > slack || d < -slack {
		t.Errorf("%s on %s: billed %s, flysim says it ran %s (%d state changes; allowed ±%s)",
			ext.Spec.ID, bd.Spec.Date, billed, tr.ran, tr.changes, slack)
	}
	return tr
}

// expectPublishedAsServed checks that the billing API serves a published
// day exactly as published, final.
func expectPublishedAsServed(t *testing.T, bd *jetwayv1.BillingDay, org string) {
	t.Helper()
	st := statement(t, org, bd.Spec.Date, bd.Spec.Date)
	if len(st.Days) != 1 {
		t.Fatalf("GET /billing for %s: %d days", bd.Spec.Date, len(st.Days))
	}
	d := st.Days[0]
	var sum int64
	for _, it := range d.Items {
		sum += it.AmountMicros
	}
	if !d.Final || d.TotalMicros != bd.Spec.TotalMicros || len(d.Items) != len(bd.Spec.Items) || sum != d.TotalMicros {
		t.Errorf("served %s as final=%v total %d (items sum %d, %d items); published total %d, %d items",
			bd.Spec.Date, d.Final, d.TotalMicros, sum, len(d.Items), bd.Spec.TotalMicros, len(bd.Spec.Items))
	}
}

// waitState waits until the app's one machine is in state on Fly.
func waitState(t *testing.T, app, state string) {
	t.Helper()
	newG(t).Eventually(func(g gomega.Gomega) {
		ms := sim.Machines(app)
		g.Expect(ms).To(gomega.HaveLen(1))
		g.Expect(ms[0].State).To(gomega.Equal(state))
	}).WithPolling(20*time.Millisecond).Should(gomega.Succeed(), "app %s's machine never became %s", app, state)
}

// wake sends the app traffic, as a customer's client would through Fly's
// proxy, and waits until its machine is started. The proxy stops it again
// a second of real time later; a clock jump in that second is time it ran.
func wake(t *testing.T, app string) {
	t.Helper()
	if _, err := sim.Traffic(app); err != nil {
		t.Fatalf("traffic to %s: %v", app, err)
	}
	waitState(t, app, "started")
}
