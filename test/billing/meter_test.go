package billing

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
	"github.com/jetway-dev/jetway/internal/billing"
	"github.com/jetway-dev/jetway/internal/domain"
)

// TestRunAcrossMidnight: a machine that runs through midnight is billed
// up to midnight on the day that ended and from midnight on the next, and
// the ended day, once published, is served final and never changes.
func TestRunAcrossMidnight(t *testing.T) {
	g := newG(t)
	id, org := uniqueID("midnight"), uniqueID("org")
	day := freshDay(23 * time.Hour)
	ext := provision(t, id, org, standardPlan)
	t.Cleanup(func() { deleteExtension(t, id) })

	// Run the last hour of the day, then look on both sides of midnight.
	end := billing.StartOf(day).Add(billing.Day)
	clock.JumpTo(end.Add(-3 * time.Second))
	waitMeteredThrough(t, ext, end.Add(2*time.Second))

	bd := closeDay(t, org, day)
	tr := expectBilledAsRan(t, bd, ext)
	g.Expect(tr.ran).To(gomega.BeNumerically(">=", time.Hour-5*time.Second), "the machine ran the day's last hour")
	g.Expect(bd.Spec.UnprovenSeconds).To(gomega.BeZero())
	g.Expect(bd.Spec.Items).To(gomega.ConsistOf(gomega.And(
		gomega.HaveField("Size", standardSize), gomega.HaveField("Region", "iad"),
		gomega.HaveField("UnitPriceMicrosPerHour", int64(standardHourMicros)),
		gomega.HaveField("AmountMicros", billedSeconds(bd, id)*1000))))
	expectPublishedAsServed(t, bd, org)

	// The next day has what ran since midnight, so far, and is not final.
	next := billing.NextDate(day)
	st := statement(t, org, day, next)
	g.Expect(st.Days).To(gomega.HaveLen(2))
	g.Expect(st.Days[1].Final).To(gomega.BeFalse())
	g.Expect(st.Days[1].Items).To(gomega.HaveLen(1))
	g.Expect(st.Days[1].Items[0].QuantitySeconds).To(gomega.BeNumerically(">", 0))

	// More passes of the meter and the billing controller change nothing
	// published.
	clock.Advance(time.Hour)
	waitMeteredThrough(t, ext, clock.Now())
	again := closeDay(t, org, day)
	g.Expect(again.Spec).To(gomega.Equal(bd.Spec))
	expectPublishedAsServed(t, again, org)
}

// TestStoppedMachineIsNotBilled: Fly's proxy stops an idle machine and
// starts it on traffic; only the time it was started is billed.
func TestStoppedMachineIsNotBilled(t *testing.T) {
	g := newG(t)
	id, org := uniqueID("sleepy"), uniqueID("org")
	day := freshDay(time.Hour)
	ext := provision(t, id, org, sleepyPlan)
	t.Cleanup(func() { deleteExtension(t, id) })
	app := ext.Status.AppName

	waitState(t, app, "stopped")
	clock.Advance(2 * time.Hour) // asleep: costs nothing
	wake(t, app)
	clock.Advance(30 * time.Minute) // awake for half an hour
	waitState(t, app, "stopped")
	clock.Advance(time.Hour)
	waitMeteredThrough(t, ext, clock.Now())

	bd := closeDay(t, org, day)
	tr := expectBilledAsRan(t, bd, ext)
	g.Expect(tr.ran).To(gomega.And(
		gomega.BeNumerically(">=", 30*time.Minute), gomega.BeNumerically("<", 31*time.Minute)),
		"the machine ran half an hour and a few real seconds")
	g.Expect(tr.changes).To(gomega.BeNumerically(">=", 4), "started, stopped, started, stopped")
	expectPublishedAsServed(t, bd, org)
}

// TestPlanChangeMidDay: a plan change that resizes the machine bills each
// size at its own price, changing at the change.
func TestPlanChangeMidDay(t *testing.T) {
	g := newG(t)
	id, org := uniqueID("resize"), uniqueID("org")
	day := freshDay(time.Hour)
	ext := provision(t, id, org, standardPlan)
	t.Cleanup(func() { deleteExtension(t, id) })

	clock.Advance(2 * time.Hour)
	resp, err := flyAPI().Update(ctxFor(t), id, map[string]any{"plan": largePlan})
	g.Expect(err).NotTo(gomega.HaveOccurred())
	g.Expect(resp.StatusCode).To(gomega.Equal(200), "body: %s", resp.Body)
	g.Eventually(func(g gomega.Gomega) {
		ms := sim.Machines(ext.Status.AppName)
		g.Expect(ms).To(gomega.HaveLen(1))
		g.Expect(ms[0].Config.Guest.ToSize()).To(gomega.Equal(largeSize))
		g.Expect(ms[0].State).To(gomega.Equal("started"))
	}).Should(gomega.Succeed())
	ext = waitReady(t, id)
	waitMeteredThrough(t, ext, clock.Now())
	clock.Advance(3 * time.Hour)
	deleteExtension(t, id)

	bd := closeDay(t, org, day)
	expectBilledAsRan(t, bd, ext)
	bySize := map[string]jetwayv1.BillingItem{}
	for _, it := range bd.Spec.Items {
		bySize[it.Size] = it
	}
	g.Expect(bySize).To(gomega.HaveLen(2), "one item per size: %+v", bd.Spec.Items)
	small, large := bySize[standardSize], bySize[largeSize]
	g.Expect(small.QuantitySeconds).To(gomega.And(gomega.BeNumerically(">=", 2*3600), gomega.BeNumerically("<", 2*3600+60)))
	g.Expect(large.QuantitySeconds).To(gomega.And(gomega.BeNumerically(">=", 3*3600), gomega.BeNumerically("<", 3*3600+60)))
	g.Expect(small.UnitPriceMicrosPerHour).To(gomega.Equal(int64(standardHourMicros)))
	g.Expect(large.UnitPriceMicrosPerHour).To(gomega.Equal(int64(largeHourMicros)))
	g.Expect(small.AmountMicros).To(gomega.Equal(small.QuantitySeconds * 1000))
	g.Expect(large.AmountMicros).To(gomega.Equal(large.QuantitySeconds * 2000))
	g.Expect(bd.Spec.TotalMicros).To(gomega.Equal(small.AmountMicros + large.AmountMicros))
}

// TestDeletedMidDay: an extension deleted during a day is billed for that
// day up to its deletion, appears in the day's items, and its ledger goes
// once the day is published.
func TestDeletedMidDay(t *testing.T) {
	g := newG(t)
	id, org := uniqueID("gone"), uniqueID("org")
	day := freshDay(time.Hour)
	ext := provision(t, id, org, standardPlan)

	clock.Advance(2 * time.Hour)
	deleteExtension(t, id)
	clock.Advance(3 * time.Hour) // gone: costs nothing

	st := statement(t, org, day, day)
	g.Expect(st.Days[0].Items).To(gomega.ConsistOf(gomega.HaveField("ExtensionID", id)), "a deleted extension still shows on its day")

	bd := closeDay(t, org, day)
	tr := expectBilledAsRan(t, bd, ext)
	g.Expect(tr.ran).To(gomega.And(gomega.BeNumerically(">=", 2*time.Hour), gomega.BeNumerically("<", 2*time.Hour+time.Minute)))
	g.Expect(bd.Spec.Items).To(gomega.ConsistOf(gomega.HaveField("ExtensionName", ext.Spec.Name)))
	expectPublishedAsServed(t, bd, org)

	key := client.ObjectKey{Namespace: ext.Namespace, Name: domain.UsageLedgerName(id)}
	g.Eventually(func() bool {
		return apierrors.IsNotFound(k8s.Get(ctxFor(t), key, &jetwayv1.UsageLedger{}))
	}).Should(gomega.BeTrue(), "the deleted extension's ledger outlived its last published day")
}

// TestEventsLostWhileNobodyLooks: with no Jetway running, a machine stops
// and starts so often that its oldest events roll off Fly's list before
// anyone reads them. The next leader bills only what the list still
// proves, says which interval it could not, and bills no event twice
// however often it re-reads the list.
func TestEventsLostWhileNobodyLooks(t *testing.T) {
	g := newG(t)
	id, org := uniqueID("lost"), uniqueID("org")
	day := freshDay(time.Hour)
	ext := provision(t, id, org, sleepyPlan)
	t.Cleanup(func() { deleteExtension(t, id) })
	app := ext.Status.AppName
	waitState(t, app, "stopped")
	waitMeteredThrough(t, ext, clock.Now())

	holder, err := waitForLeader(ctxFor(t), "")
	g.Expect(err).NotTo(gomega.HaveOccurred())
	stopAllReplicas(t)
	// Four wakes of ten minutes: sixteen events, and Fly lists ten.
	for range 4 {
		wake(t, app)
		clock.Advance(10 * time.Minute)
		waitState(t, app, "stopped")
		clock.Advance(5 * time.Minute)
	}
	startLeader(t, holder)

	g.Eventually(func(g gomega.Gomega) {
		cur, err := extensionOf(ctxFor(t), id)
		g.Expect(err).NotTo(gomega.HaveOccurred())
		c := meta.FindStatusCondition(cur.Status.Conditions, jetwayv1.ConditionUsageProven)
		g.Expect(c).NotTo(gomega.BeNil())
		g.Expect(c.Status).To(gomega.BeEquivalentTo("False"))
		g.Expect(c.Reason).To(gomega.Equal(jetwayv1.ReasonEventsRolledOff))
	}).Should(gomega.Succeed())
	// Let the new leader re-read the same ten events a few times.
	time.Sleep(3 * resync)
	waitMeteredThrough(t, ext, clock.Now())

	bd := closeDay(t, org, day)
	tr := truthOf(app, day)
	billed := time.Duration(billedSeconds(bd, id)) * time.Second
	unproven := time.Duration(bd.Spec.UnprovenSeconds) * time.Second
	slack := time.Duration(tr.changes+1) * time.Second
	t.Logf("%s on %s: billed %s, flysim says it ran %s (%d state changes), %s unproven", id, day, billed, tr.ran, tr.changes, unproven)
	g.Expect(unproven).To(gomega.BeNumerically(">", 0), "the rolled-off interval is said to be unproven")
	g.Expect(billed).To(gomega.BeNumerically("<=", tr.ran+slack), "never more than ran")
	g.Expect(billed).To(gomega.BeNumerically(">=", 10*time.Minute), "the wakes Fly still lists are billed")
	g.Expect(tr.ran-billed).To(gomega.BeNumerically("<=", unproven+slack), "what is not billed lies in the unproven interval")
	expectPublishedAsServed(t, bd, org)
}

// TestLeaderChange: the leader goes, with its local disk, while a machine
// wakes and sleeps; a standby takes over from the ledger in the API
// server, re-reads events the old leader already metered, and the day is
// billed exactly as it ran.
func TestLeaderChange(t *testing.T) {
	g := newG(t)
	id, org := uniqueID("handover"), uniqueID("org")
	day := freshDay(time.Hour)
	ext := provision(t, id, org, sleepyPlan)
	t.Cleanup(func() { deleteExtension(t, id) })
	app := ext.Status.AppName
	waitState(t, app, "stopped")

	holder, err := waitForLeader(ctxFor(t), "")
	g.Expect(err).NotTo(gomega.HaveOccurred())
	old := runningReplicas()
	if _, err := startReplica(); err != nil { // the standby
		t.Fatal(err)
	}
	wake(t, app)
	clock.Advance(20 * time.Minute)
	waitState(t, app, "stopped")
	waitMeteredThrough(t, ext, clock.Now())

	for _, r := range old {
		g.Expect(r.stop()).To(gomega.Succeed())
	}
	wake(t, app) // between leaders
	clock.Advance(15 * time.Minute)
	_, err = waitForLeader(ctxFor(t), holder)
	g.Expect(err).NotTo(gomega.HaveOccurred())
	waitState(t, app, "stopped")
	wake(t, app) // under the new leader
	clock.Advance(10 * time.Minute)
	waitState(t, app, "stopped")
	waitMeteredThrough(t, ext, clock.Now())

	bd := closeDay(t, org, day)
	tr := expectBilledAsRan(t, bd, ext)
	g.Expect(tr.ran).To(gomega.BeNumerically(">=", 45*time.Minute))
	g.Expect(bd.Spec.UnprovenSeconds).To(gomega.BeZero(), "ten events cover what happened between leaders")
	expectPublishedAsServed(t, bd, org)
}

// TestTwoDaysOfAnOrganization: three extensions of one organization over
// two simulated days — one runs throughout, one is resized and then
// deleted on the first day, one sleeps and wakes — answered to Fly's
// billing pull: the first day final and as it ran, the second so far. The
// statement is logged (go test -v) as an example of the API's answer.
func TestTwoDaysOfAnOrganization(t *testing.T) {
	g := newG(t)
	org := uniqueID("org")
	ids := []string{uniqueID("always"), uniqueID("resized"), uniqueID("napper")}
	day := freshDay(6 * time.Hour)
	always := provision(t, ids[0], org, standardPlan)
	provision(t, ids[1], org, standardPlan)
	napper := provision(t, ids[2], org, sleepyPlan)
	t.Cleanup(func() { deleteExtension(t, ids[0]); deleteExtension(t, ids[2]) })
	waitState(t, napper.Status.AppName, "stopped")

	clock.Advance(3 * time.Hour) // 09:00
	resp, err := flyAPI().Update(ctxFor(t), ids[1], map[string]any{"plan": largePlan})
	g.Expect(err).NotTo(gomega.HaveOccurred())
	g.Expect(resp.StatusCode).To(gomega.Equal(200))
	resized := waitReady(t, ids[1])
	waitMeteredThrough(t, resized, clock.Now())
	wake(t, napper.Status.AppName)
	clock.Advance(45 * time.Minute)
	waitState(t, napper.Status.AppName, "stopped")
	clock.Advance(4 * time.Hour) // 13:45
	deleteExtension(t, ids[1])

	// The first day closes just after midnight, once the looks prove it to
	// its end: a jump straight to the next morning would pass the close
	// grace, and the day would be published with the time not yet looked
	// at unbilled, as it should be then.
	bd := closeDay(t, org, day)
	for _, ext := range []*jetwayv1.Extension{always, resized, napper} {
		expectBilledAsRan(t, bd, ext)
	}
	g.Expect(bd.Spec.UnprovenSeconds).To(gomega.BeZero())
	expectPublishedAsServed(t, bd, org)

	clock.JumpTo(billing.StartOf(day).Add(billing.Day + 10*time.Hour)) // the next day, 10:00
	wake(t, napper.Status.AppName)
	clock.Advance(time.Hour)
	waitState(t, napper.Status.AppName, "stopped")
	waitMeteredThrough(t, always, clock.Now())
	waitMeteredThrough(t, napper, clock.Now())

	next := billing.NextDate(day)
	st := statement(t, org, day, next)
	out, _ := json.MarshalIndent(st, "", "  ")
	t.Logf("GET /flyio/billing?organization_id=%s&from=%s&to=%s:\n%s", org, day, next, out)
	g.Expect(st.Days[0].Final).To(gomega.BeTrue())
	g.Expect(st.Days[1].Final).To(gomega.BeFalse())
	g.Expect(st.Days[0].Items).To(gomega.HaveLen(4), "always, resized at two sizes, napper")
	g.Expect(st.Days[1].Items).To(gomega.HaveLen(2), "always and napper; the resized one is gone")
	for _, d := range st.Days {
		var sum int64
		for _, it := range d.Items {
			sum += it.AmountMicros
		}
		g.Expect(sum).To(gomega.Equal(d.TotalMicros), "the items of %s sum to its total", d.Date)
	}
}
