package billing

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	flygo "github.com/superfly/fly-go"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
)

// 3,600 micro-units a GB-hour is one a GB-second, so an amount is its
// GB-seconds and a wrong rounding shows.
const gbSecond = int64(3600)

func vol(id string, created time.Time, sizeGB int, attachedTo string) flygo.Volume {
	v := flygo.Volume{ID: id, Name: "data_primary_iad", Region: "iad", State: "created", SizeGb: sizeGB, CreatedAt: created}
	if attachedTo != "" {
		v.AttachedMachine = &attachedTo
	}
	return v
}

func listVolumes(l *jetwayv1.UsageLedgerSpec, at time.Time, price int64, vols ...flygo.Volume) bool {
	return MeterVolumes(l, VolumeObservation{Volumes: vols, At: at, GBHourPrice: &price})
}

func destroyVolumes(l *jetwayv1.UsageLedgerSpec, at time.Time, price int64, vols ...flygo.Volume) bool {
	return MeterVolumes(l, VolumeObservation{Volumes: vols, At: at, Destroyed: true, GBHourPrice: &price})
}

// mounting is a machine Fly lists bound to volume id.
func mounting(machineID, volumeID string) *flygo.Machine {
	return &flygo.Machine{ID: machineID, Region: "iad", State: "stopped",
		Config: &flygo.MachineConfig{Mounts: []flygo.MachineMount{{Volume: volumeID, Path: "/data"}}}}
}

// volumeItems are a day's volume items, keyed by size.
func volumeItems(t *testing.T, l *jetwayv1.UsageLedgerSpec, date string) map[string]jetwayv1.BillingItem {
	t.Helper()
	out := map[string]jetwayv1.BillingItem{}
	for _, it := range billed(l, date).Items {
		if it.Meter != jetwayv1.MeterVolume {
			continue
		}
		if _, dup := out[it.Size]; dup {
			t.Fatalf("two volume items of size %s on %s", it.Size, date)
		}
		out[it.Size] = it
	}
	return out
}

// A volume whose create answer was lost is billed from Fly's created_at,
// not from when Jetway first saw it; a look at the machine bound to it
// proves it on; once a list no longer shows it (destroyed behind Jetway's
// back), it is billed to the last sighting.
func TestVolumeBilledFromCreationToLastSighting(t *testing.T) {
	l := newLedger("2026-12-05")
	created := t0.Add(-time.Hour)
	if !listVolumes(l, t0, gbSecond, vol("vol_a", created, 10, "")) {
		t.Fatal("the first list changed nothing")
	}
	if changed, _ := look(l, t0.Add(time.Hour), 0, mounting("m1", "vol_a")); !changed {
		t.Fatal("a look at the machine bound to the volume proved nothing")
	}
	if l.Volumes[0].Machine != "m1" {
		t.Errorf("bound to %q, want m1", l.Volumes[0].Machine)
	}
	listVolumes(l, t0.Add(3*time.Hour), gbSecond) // gone
	if l.Volumes[0].GoneAt == nil {
		t.Fatal("a volume missing from a complete list is not gone")
	}
	want := map[string]jetwayv1.BillingItem{"10GB": {
		ExtensionID: "ext-1", ExtensionName: "db", Meter: "volume", Size: "10GB", Region: "iad",
		QuantitySeconds: 2 * 3600, QuantityGBSeconds: 20 * 3600, UnitPriceMicrosPerHour: gbSecond, AmountMicros: 20 * 3600,
	}}
	if diff := cmp.Diff(want, volumeItems(t, l, "2026-12-05")); diff != "" {
		t.Fatalf("items (-want +got):\n%s", diff)
	}
	if listVolumes(l, t0.Add(4*time.Hour), gbSecond) {
		t.Fatal("a gone volume changed the ledger again")
	}
}

// An extended volume is billed at the old size until Jetway saw the new
// one, and at the new size from then.
func TestVolumeExtendedIsBilledAtEachSize(t *testing.T) {
	l := newLedger("2026-12-05")
	listVolumes(l, t0, gbSecond, vol("vol_a", t0, 10, "m1"))
	listVolumes(l, t0.Add(time.Hour), gbSecond, vol("vol_a", t0, 25, "m1"))
	look(l, t0.Add(3*time.Hour), 0, mounting("m1", "vol_a"))
	items := volumeItems(t, l, "2026-12-05")
	if got := items["10GB"]; got.QuantitySeconds != 3600 || got.QuantityGBSeconds != 36000 || got.AmountMicros != 36000 {
		t.Errorf("10GB item = %+v, want an hour", got)
	}
	if got := items["25GB"]; got.QuantitySeconds != 2*3600 || got.QuantityGBSeconds != 25*2*3600 || got.AmountMicros != 25*2*3600 {
		t.Errorf("25GB item = %+v, want two hours", got)
	}
	if len(items) != 2 {
		t.Errorf("%d items, want 2: %+v", len(items), items)
	}
}

// A volume Jetway destroys is billed to when it asked; one listed again
// afterwards was not destroyed (the request failed) and is metered on.
func TestVolumeDestroyedByJetwayIsBilledToTheAsk(t *testing.T) {
	l := newLedger("2026-12-05")
	a, b := vol("vol_a", t0, 1, ""), vol("vol_b", t0, 1, "")
	listVolumes(l, t0.Add(time.Hour), gbSecond, a, b)
	destroyVolumes(l, t0.Add(90*time.Minute), gbSecond, a)
	if l.Volumes[0].GoneAt == nil || l.Volumes[1].GoneAt != nil {
		t.Fatalf("destroying vol_a: goneAt %v, %v; want only vol_a gone", l.Volumes[0].GoneAt, l.Volumes[1].GoneAt)
	}
	listVolumes(l, t0.Add(2*time.Hour), gbSecond, b)
	if got := l.Volumes[0].Segments[0].To.Time; !got.Equal(t0.Add(90 * time.Minute)) {
		t.Errorf("vol_a billed to %s, want the ask at %s", got, t0.Add(90*time.Minute))
	}
	// vol_b's destroy fails, and it is listed again: it still exists.
	destroyVolumes(l, t0.Add(3*time.Hour), gbSecond, b)
	listVolumes(l, t0.Add(4*time.Hour), gbSecond, b)
	vb := l.Volumes[1]
	if vb.GoneAt != nil || !vb.Segments[len(vb.Segments)-1].To.Time.Equal(t0.Add(4*time.Hour)) {
		t.Errorf("vol_b after a failed destroy: goneAt %v, segments %+v; want live to %s", vb.GoneAt, vb.Segments, t0.Add(4*time.Hour))
	}
	if got := volumeItems(t, l, "2026-12-05")["1GB"].QuantitySeconds; got != 90*60+4*3600 {
		t.Errorf("billed %d s, want %d", got, 90*60+4*3600)
	}
}

// A price change splits the segment at the sighting that saw it; an
// unreadable plan keeps the price the volume had, and a new volume is then
// priced 0.
func TestVolumePrices(t *testing.T) {
	l := newLedger("2026-12-05")
	listVolumes(l, t0, 100, vol("vol_a", t0, 2, ""))
	listVolumes(l, t0.Add(time.Hour), 200, vol("vol_a", t0, 2, ""))
	MeterVolumes(l, VolumeObservation{Volumes: []flygo.Volume{vol("vol_a", t0, 2, ""), vol("vol_b", t0.Add(time.Hour), 2, "")},
		At: t0.Add(2 * time.Hour)})
	segs := l.Volumes[0].Segments
	if len(segs) != 2 || segs[0].UnitPriceMicrosPerGBHour != 100 || segs[1].UnitPriceMicrosPerGBHour != 200 ||
		!segs[1].From.Time.Equal(t0.Add(time.Hour)) || !segs[1].To.Time.Equal(t0.Add(2*time.Hour)) {
		t.Errorf("vol_a segments = %+v", segs)
	}
	if p := l.Volumes[1].Segments[0].UnitPriceMicrosPerGBHour; p != 0 {
		t.Errorf("a volume first seen without a plan is priced %d, want 0", p)
	}
	bill := billed(l, "2026-12-05")
	// vol_a: 2 GB × 1 h at 100 and 2 GB × 1 h at 200; vol_b: 2 GB × 1 h at 0.
	if bill.TotalMicros != 200+400 || len(bill.Items) != 3 {
		t.Errorf("bill = %+v", bill)
	}
}

// A volume on its way out, in a list that shows such states, counts as
// not listed; and time before the ledger's first day is never recorded.
func TestVolumeStatesAndTheWindow(t *testing.T) {
	l := newLedger("2026-12-05")
	old := vol("vol_old", t0.Add(-48*time.Hour), 3, "")
	listVolumes(l, t0, gbSecond, old)
	if from := l.Volumes[0].Segments[0].From.Time; !from.Equal(StartOf("2026-12-05")) {
		t.Errorf("a volume made two days before openFrom is billed from %s, want the day's start", from)
	}
	old.State = "pending_destroy"
	listVolumes(l, t0.Add(time.Hour), gbSecond, old)
	if l.Volumes[0].GoneAt == nil || !l.Volumes[0].Segments[0].To.Time.Equal(t0) {
		t.Errorf("a volume listed pending_destroy: %+v; want gone, billed to its last sighting", l.Volumes[0])
	}
}

// A look proves only volumes a list has shown (their created_at and size
// are unknown otherwise), and only those a listed machine is bound to.
func TestLookProvesOnlyKnownBoundVolumes(t *testing.T) {
	l := newLedger("2026-12-05")
	look(l, t0, 0, mounting("m1", "vol_unlisted"))
	if len(l.Volumes) != 0 {
		t.Fatalf("a look added volumes: %+v", l.Volumes)
	}
	listVolumes(l, t0, gbSecond, vol("vol_a", t0, 1, ""), vol("vol_b", t0, 1, ""))
	look(l, t0.Add(time.Hour), 0, mounting("m1", "vol_a"))
	if a, b := l.Volumes[0].ProvenThrough.Time, l.Volumes[1].ProvenThrough.Time; !a.Equal(t0.Add(time.Hour)) || !b.Equal(t0) {
		t.Errorf("proven through %s and %s, want %s and %s: vol_b is bound to no machine, so only a list proves it",
			a, b, t0.Add(time.Hour), t0)
	}
	gone := mounting("m2", "vol_b")
	gone.State = "destroyed"
	look(l, t0.Add(time.Hour), 0, mounting("m1", "vol_a"), gone)
	if !l.Volumes[1].ProvenThrough.Time.Equal(t0) {
		t.Error("a destroyed machine proved its volume")
	}
}

// Closing a day counts a live volume's time after its last sighting as
// unproven; pruning keeps its last segment, empty, for the next sighting
// to extend from midnight; a volume across midnight is billed on both
// days.
func TestVolumeAcrossMidnight(t *testing.T) {
	l := newLedger("2026-12-05")
	evening := StartOf("2026-12-05").Add(22 * time.Hour)
	listVolumes(l, evening, gbSecond, vol("vol_a", evening.Add(-time.Hour), 1, ""))
	closing := Bill("2026-12-05", []*jetwayv1.UsageLedger{{Spec: *l}}, true)
	if closing.UnprovenSeconds != 2*3600 {
		t.Errorf("unproven %d s, want the two hours after the last sighting", closing.UnprovenSeconds)
	}
	if got := ProvenThrough(l, evening.Add(5*time.Hour)); !got.Equal(evening) {
		t.Errorf("proven through %s, want %s", got, evening)
	}
	next := StartOf("2026-12-06").Add(time.Hour)
	listVolumes(l, next, gbSecond, vol("vol_a", evening.Add(-time.Hour), 1, ""))
	if got := volumeItems(t, l, "2026-12-05")["1GB"].QuantitySeconds; got != 3*3600 {
		t.Errorf("first day: %d s, want 3 h", got)
	}
	if unproven := Bill("2026-12-05", []*jetwayv1.UsageLedger{{Spec: *l}}, true).UnprovenSeconds; unproven != 0 {
		t.Errorf("after a sighting past midnight, %d s are unproven", unproven)
	}
	if !Prune(l, "2026-12-06") {
		t.Fatal("prune changed nothing")
	}
	if got := volumeItems(t, l, "2026-12-06")["1GB"].QuantitySeconds; got != 3600 {
		t.Errorf("second day after pruning: %d s, want 1 h", got)
	}
	if segs := l.Volumes[0].Segments; len(segs) != 1 || !segs[0].From.Time.Equal(StartOf("2026-12-06")) {
		t.Errorf("pruned segments = %+v", segs)
	}
	// A gone volume with nothing left after the cut is dropped.
	listVolumes(l, next.Add(time.Hour), gbSecond)
	Prune(l, "2026-12-07")
	if len(l.Volumes) != 0 {
		t.Errorf("a volume gone before the cut outlived pruning: %+v", l.Volumes)
	}
}

// Fly stamps created_at with sub-millisecond precision on some paths; the
// meter never bills from before it.
func TestVolumeCreatedAtIsRoundedUp(t *testing.T) {
	l := newLedger("2026-12-05")
	listVolumes(l, t0.Add(time.Second), gbSecond, vol("vol_a", t0.Add(300*time.Microsecond), 1, ""))
	if from := l.Volumes[0].Segments[0].From.Time; !from.Equal(t0.Add(time.Millisecond)) {
		t.Errorf("billed from %s, want %s", from, t0.Add(time.Millisecond))
	}
}
