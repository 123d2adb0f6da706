package billing

import (
	"testing"
	"time"

	"github.com/onsi/gomega"
	flygo "github.com/superfly/fly-go"
	"sigs.k8s.io/controller-runtime/pkg/client"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
	"github.com/jetway-dev/jetway/internal/billing"
	"github.com/jetway-dev/jetway/internal/fly"
)

// TestVolumeBilledAsItExists: a volume is billed GB × the time it exists
// on Fly, from its created_at to the deprovisioning: a volume a dead pass
// left (made while no pass ran, as a create whose answer was lost leaves
// it) from its creation, not from when Jetway found it; a volume extended
// mid-day at each size, the new one from when Jetway saw it; and nothing
// after the extension is deleted mid-day.
func TestVolumeBilledAsItExists(t *testing.T) {
	g := newG(t)
	id, org := uniqueID("stored"), uniqueID("org")
	day := freshDay(time.Hour)
	ext := provision(t, id, org, storedPlan)
	app := ext.Status.AppName
	clock.Advance(2 * time.Hour) // 03:00
	waitMeteredThrough(t, ext, clock.Now())

	setPaused(t, ext, true)
	flyc := flyClient(t)
	size := storedSizeGB
	leftover, err := flyc.CreateVolume(ctxFor(t), app, flygo.CreateVolumeRequest{Name: "data_replica_ord", Region: "ord", SizeGb: &size})
	g.Expect(err).NotTo(gomega.HaveOccurred())
	clock.Advance(time.Hour) // 04:00: the leftover has existed an hour unseen
	primary := volumeIn(t, app, "iad")
	extendedAt := clock.Now()
	_, _, err = flyc.ExtendVolume(ctxFor(t), app, primary.ID, 5)
	g.Expect(err).NotTo(gomega.HaveOccurred())
	// A replica in ord: the pass that makes it lists the volumes, finds
	// the leftover (and mounts it) and the primary's new size.
	resp, err := flyAPI().Update(ctxFor(t), id, map[string]any{"read_regions": []string{"ord"}})
	g.Expect(err).NotTo(gomega.HaveOccurred())
	g.Expect(resp.StatusCode).To(gomega.Equal(200), "body: %s", resp.Body)
	setPaused(t, ext, false)
	ext = waitReady(t, id)
	seenBy := clock.Now()
	g.Expect(sim.Volumes(app)).To(gomega.HaveLen(2), "the leftover was mounted, not doubled")
	g.Expect(ledgerVolume(t, ext, "ord")).To(gomega.Equal(leftover.ID), "the ledger meters the leftover")

	clock.Advance(3 * time.Hour) // 07:00
	waitMeteredThrough(t, ext, clock.Now())
	deleteExtension(t, id)
	clock.Advance(2 * time.Hour) // gone: costs nothing

	bd := closeDay(t, org, day)
	expectBilledAsRan(t, bd, ext)
	// The primary's 3 GB more is billed from when Jetway saw it, at most
	// this long after the extend.
	late := seenBy.Sub(extendedAt)
	expectVolumesBilledAsExisted(t, bd, ext, 3*late)
	items := volumeItemsOf(bd, id)
	g.Expect(items).To(gomega.HaveLen(3), "iad at 2 and 5 GB, ord at 2 GB: %+v", bd.Spec.Items)
	ord := items["ord/2GB"]
	g.Expect(ord.QuantitySeconds).To(gomega.BeNumerically(">=", 4*3600-60),
		"the leftover is billed from its creation at 03:00, an hour before Jetway found it")
	g.Expect(items["iad/5GB"].QuantitySeconds).To(gomega.And(
		gomega.BeNumerically(">=", 3*3600), gomega.BeNumerically("<", 3*3600+60)))
	g.Expect(bd.Spec.UnprovenSeconds).To(gomega.BeZero())
	expectPublishedAsServed(t, bd, org)
}

// TestUnboundVolumeAcrossMidnight: a volume no machine is bound to (a
// former primary's, whose region changed: Jetway never destroys one, it
// may hold the only copy) is proven by no look at the machines; the day it
// lived in still closes, as soon as Jetway lists the volumes after
// midnight, and bills it to the day's end.
func TestUnboundVolumeAcrossMidnight(t *testing.T) {
	g := newG(t)
	id, org := uniqueID("unbound"), uniqueID("org")
	day := freshDay(22 * time.Hour)
	ext := provision(t, id, org, storedPlan)
	t.Cleanup(func() { deleteExtension(t, id) })
	clock.Advance(30 * time.Minute)
	size := storedSizeGB
	former, err := flyClient(t).CreateVolume(ctxFor(t), ext.Status.AppName,
		flygo.CreateVolumeRequest{Name: "data_primary_sea", Region: "sea", SizeGb: &size})
	g.Expect(err).NotTo(gomega.HaveOccurred())
	// A replica in ord: the pass that makes it lists the volumes, and so
	// meters the former primary's.
	resp, err := flyAPI().Update(ctxFor(t), id, map[string]any{"read_regions": []string{"ord"}})
	g.Expect(err).NotTo(gomega.HaveOccurred())
	g.Expect(resp.StatusCode).To(gomega.Equal(200), "body: %s", resp.Body)
	ext = waitReady(t, id)
	g.Expect(volumeIn(t, ext.Status.AppName, "sea").AttachedMachine).To(gomega.BeNil(), "the former primary's volume is bound to no machine")
	g.Expect(ledgerVolume(t, ext, "sea")).To(gomega.Equal(former.ID), "the ledger meters the former primary's volume")

	// closeDay waits until the day is published, which a grace of six
	// hours would not do within its wait: the day needs the unbound
	// volume proven past midnight.
	bd := closeDay(t, org, day)
	expectVolumesBilledAsExisted(t, bd, ext, 0)
	g.Expect(bd.Spec.UnprovenSeconds).To(gomega.BeZero())
	g.Expect(volumeItemsOf(bd, id)["sea/2GB"].QuantitySeconds).To(gomega.BeNumerically(">=", int64(90*time.Minute/time.Second)-60),
		"billed to the day's end")

	next := billing.NextDate(day)
	st := statement(t, org, next, next)
	var seaToday int64
	for _, it := range st.Days[0].Items {
		if it.Meter == jetwayv1.MeterVolume && it.Region == "sea" {
			seaToday = it.QuantityGBSeconds
		}
	}
	g.Expect(seaToday).To(gomega.BeNumerically(">", 0), "the next day bills it so far: %+v", st.Days[0].Items)
}

// volumeTruth is how long each volume of app existed on day by flysim's
// log, by region and size, and how many creates, extends and destroys the
// day saw (each may cost the meter up to a second of rounding).
type volumeTruth struct {
	existed  map[string]time.Duration // by "region/size"
	byRegion map[string]time.Duration
	gbTime   float64 // GB-seconds
	changes  int
}

func volumeTruthOf(app, day string) volumeTruth {
	from := billing.StartOf(day)
	to := from.Add(billing.Day)
	tr := volumeTruth{existed: map[string]time.Duration{}, byRegion: map[string]time.Duration{}}
	for _, v := range sim.AllVolumes() {
		if v.App != app {
			continue
		}
		for gb, d := range sim.VolumeTime(v.ID, from, to) {
			tr.existed[v.Region+"/"+billing.VolumeSize(int32(gb))] += d
			tr.byRegion[v.Region] += d
			tr.gbTime += float64(gb) * d.Seconds()
		}
		for _, c := range sim.VolumeHistory(v.ID) {
			if !c.At.Before(from) && c.At.Before(to) {
				tr.changes++
			}
		}
	}
	return tr
}

// volumeItemsOf are a published day's volume items of an extension, by
// "region/size".
func volumeItemsOf(bd *jetwayv1.BillingDay, extensionID string) map[string]jetwayv1.BillingItem {
	out := map[string]jetwayv1.BillingItem{}
	for _, it := range bd.Spec.Items {
		if it.ExtensionID == extensionID && it.Meter == jetwayv1.MeterVolume {
			out[it.Region+"/"+it.Size] = it
		}
	}
	return out
}

// expectVolumesBilledAsExisted checks a closed day's volume items against
// flysim's log: in each region, the time billed is the time its volumes
// existed within a second per change; the GB-seconds billed are never more
// than existed, and less by at most lateGBTime (a size Jetway saw late);
// every amount is its GB-seconds at the price.
func expectVolumesBilledAsExisted(t *testing.T, bd *jetwayv1.BillingDay, ext *jetwayv1.Extension, lateGBTime time.Duration) {
	t.Helper()
	tr := volumeTruthOf(ext.Status.AppName, bd.Spec.Date)
	slack := time.Duration(tr.changes+1) * time.Second
	billedByRegion := map[string]time.Duration{}
	var gbSeconds int64
	for key, it := range volumeItemsOf(bd, ext.Spec.ID) {
		billedByRegion[it.Region] += time.Duration(it.QuantitySeconds) * time.Second
		gbSeconds += it.QuantityGBSeconds
		if it.AmountMicros != it.QuantityGBSeconds*volumeGBSecondMicro || it.UnitPriceMicrosPerHour != volumeGBHourMicros {
			t.Errorf("%s on %s, %s: %d GB-s at %d a GB-hour cost %d", ext.Spec.ID, bd.Spec.Date, key,
				it.QuantityGBSeconds, it.UnitPriceMicrosPerHour, it.AmountMicros)
		}
	}
	t.Logf("%s on %s: volumes billed %v (%d GB-s), flysim says they existed %v (%.0f GB-s; %d creates, extends, destroys)",
		ext.Spec.ID, bd.Spec.Date, billedByRegion, gbSeconds, tr.existed, tr.gbTime, tr.changes)
	if len(tr.byRegion) == 0 {
		t.Errorf("%s on %s: flysim says no volume existed", ext.Spec.ID, bd.Spec.Date)
	}
	for region, want := range tr.byRegion {
		if d := billedByRegion[region] - want; d > slack || d < -slack {
			t.Errorf("%s on %s in %s: volumes billed for %s, flysim says they existed %s (±%s allowed)",
				ext.Spec.ID, bd.Spec.Date, region, billedByRegion[region], want, slack)
		}
	}
	maxGB := 5.0
	if got := float64(gbSeconds); got > tr.gbTime+maxGB*slack.Seconds() || got < tr.gbTime-lateGBTime.Seconds()-maxGB*slack.Seconds() {
		t.Errorf("%s on %s: %d GB-s billed, flysim says %.0f existed (at most %.0f less allowed)",
			ext.Spec.ID, bd.Spec.Date, gbSeconds, tr.gbTime, lateGBTime.Seconds())
	}
}

// volumeIn is the app's one live volume in region.
func volumeIn(t *testing.T, app, region string) flygo.Volume {
	t.Helper()
	var out []flygo.Volume
	for _, v := range sim.Volumes(app) {
		if v.Region == region {
			out = append(out, v)
		}
	}
	if len(out) != 1 {
		t.Fatalf("app %s has %d volumes in %s: %+v", app, len(out), region, out)
	}
	return out[0]
}

// ledgerVolume is the id of the volume the extension's ledger meters in
// region.
func ledgerVolume(t *testing.T, ext *jetwayv1.Extension, region string) string {
	t.Helper()
	for _, vu := range ledgerOf(t, ext).Spec.Volumes {
		if vu.Region == region {
			return vu.ID
		}
	}
	return ""
}

// flyClient calls flysim as an operator with the provider's token would
// (`fly volumes create`, `fly volumes extend`).
func flyClient(t *testing.T) fly.Client {
	t.Helper()
	c, err := fly.New(ctxFor(t), fly.Options{BaseURL: flyURL, Token: flyToken, OrgSlug: orgSlug})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// setPaused sets or clears the extension's paused annotation; Jetway then
// leaves it alone, so the test can change Fly without racing a pass.
func setPaused(t *testing.T, ext *jetwayv1.Extension, paused bool) {
	t.Helper()
	newG(t).Eventually(func() error {
		cur := &jetwayv1.Extension{}
		if err := k8s.Get(ctxFor(t), client.ObjectKeyFromObject(ext), cur); err != nil {
			return err
		}
		if cur.Annotations == nil {
			cur.Annotations = map[string]string{}
		}
		if paused {
			cur.Annotations[jetwayv1.AnnotationPaused] = "true"
		} else {
			delete(cur.Annotations, jetwayv1.AnnotationPaused)
		}
		return k8s.Update(ctxFor(t), cur)
	}).Should(gomega.Succeed())
	if paused {
		time.Sleep(time.Second) // a pass already running when it landed ends first
	}
}
