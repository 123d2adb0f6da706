package billing

import (
	"math/rand/v2"
	"testing"
	"time"

	flygo "github.com/superfly/fly-go"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
)

var t0 = time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)

// history is a machine's Fly record as a test writes it: events oldest
// first, each leaving the machine in a state.
type history struct {
	id     string
	events []*flygo.MachineEvent
	state  string
	size   string
}

func newHistory(id string) *history { return &history{id: id, size: "shared-cpu-1x"} }

func (h *history) at(t time.Time, typ, status string) *history {
	h.events = append(h.events, &flygo.MachineEvent{Type: typ, Status: status, Timestamp: t.UnixMilli()})
	h.state = status
	return h
}

// machine is the history as Fly lists it: newest first, only the newest
// limit events (0: all).
func (h *history) machine(limit int) *flygo.Machine {
	var evs []*flygo.MachineEvent
	for i := len(h.events) - 1; i >= 0 && (limit == 0 || len(evs) < limit); i-- {
		evs = append(evs, h.events[i])
	}
	cpus := 1
	if h.size == "shared-cpu-2x" {
		cpus = 2
	}
	return &flygo.Machine{ID: h.id, Region: "iad", State: h.state, Events: evs,
		Config: &flygo.MachineConfig{Guest: &flygo.MachineGuest{CPUKind: "shared", CPUs: cpus, MemoryMB: 256}}}
}

func flat(price int64) Pricer { return func(string) int64 { return price } }

func newLedger(openFrom string) *jetwayv1.UsageLedgerSpec {
	return &jetwayv1.UsageLedgerSpec{ExtensionID: "ext-1", ExtensionName: "db", OrganizationID: "org", OpenFrom: openFrom}
}

func look(l *jetwayv1.UsageLedgerSpec, at time.Time, price int64, ms ...*flygo.Machine) (bool, []Gap) {
	return Meter(l, Observation{Machines: ms, At: at, Complete: true, Price: flat(price)})
}

func billed(l *jetwayv1.UsageLedgerSpec, date string) DayBill {
	return Bill(date, []*jetwayv1.UsageLedger{{Spec: *l}}, false)
}

func secondsOn(l *jetwayv1.UsageLedgerSpec, date string) int64 {
	var s int64
	for _, it := range billed(l, date).Items {
		s += it.QuantitySeconds
	}
	return s
}

func TestMeterBillsStartedTimeUpToTheLook(t *testing.T) {
	h := newHistory("m1").at(t0, "launch", "created").at(t0.Add(2*time.Second), "start", "started")
	l := newLedger("2026-12-05")
	changed, gaps := look(l, t0.Add(time.Hour), 3600, h.machine(10))
	if !changed || len(gaps) != 0 {
		t.Fatalf("changed=%v gaps=%v", changed, gaps)
	}
	if got, want := secondsOn(l, "2026-12-05"), int64(3600-2); got != want {
		t.Fatalf("billed %d s, want %d", got, want)
	}
	// The same look again changes nothing: events are metered once.
	if changed, _ := look(l, t0.Add(time.Hour), 3600, h.machine(10)); changed {
		t.Fatal("a repeated look changed the ledger")
	}
	bill := billed(l, "2026-12-05")
	if bill.TotalMicros != 3598 || bill.Items[0].AmountMicros != 3598 || bill.Items[0].Size != "shared-cpu-1x" || bill.Items[0].Region != "iad" {
		t.Fatalf("bill = %+v", bill)
	}
}

func TestMeterStopAndStart(t *testing.T) {
	h := newHistory("m1").at(t0, "launch", "created").at(t0, "start", "started")
	l := newLedger("2026-12-05")
	look(l, t0.Add(10*time.Minute), 1, h.machine(10))
	h.at(t0.Add(20*time.Minute), "stop", "stopping").at(t0.Add(20*time.Minute+time.Second), "exit", "stopped")
	look(l, t0.Add(30*time.Minute), 1, h.machine(10))
	h.at(t0.Add(40*time.Minute), "start", "starting").at(t0.Add(40*time.Minute+2*time.Second), "start", "started")
	look(l, t0.Add(50*time.Minute), 1, h.machine(10))
	// 0→20 min running, 40m2s→50 min running.
	if got, want := secondsOn(l, "2026-12-05"), int64(20*60+10*60-2); got != want {
		t.Fatalf("billed %d s, want %d", got, want)
	}
	if n := len(l.Machines[0].Segments); n != 2 {
		t.Fatalf("%d segments, want 2", n)
	}
}

func TestMeterLookDoesNotProveAStateFlyDisagreesWith(t *testing.T) {
	h := newHistory("m1").at(t0, "launch", "created").at(t0, "start", "started")
	l := newLedger("2026-12-05")
	look(l, t0.Add(time.Minute), 1, h.machine(10))
	// Fly says stopping although no event says so yet: the look proves
	// nothing beyond the last minute.
	m := h.machine(10)
	m.State = "stopping"
	look(l, t0.Add(time.Hour), 1, m)
	if got := secondsOn(l, "2026-12-05"); got != 60 {
		t.Fatalf("billed %d s, want 60", got)
	}
}

func TestMeterGapWhenEventsRollOff(t *testing.T) {
	h := newHistory("m1").at(t0, "launch", "created").at(t0, "start", "started")
	l := newLedger("2026-12-05")
	look(l, t0.Add(time.Minute), 1, h.machine(3))
	// Twelve transitions before the next look; Fly lists three.
	at := t0.Add(2 * time.Minute)
	for i := 0; i < 6; i++ {
		h.at(at, "exit", "stopped").at(at.Add(time.Minute), "start", "started")
		at = at.Add(2 * time.Minute)
	}
	_, gaps := look(l, at, 1, h.machine(3))
	if len(gaps) != 1 {
		t.Fatalf("gaps = %v, want one", gaps)
	}
	g := gaps[0]
	if !g.From.Equal(t0.Add(time.Minute)) {
		t.Fatalf("gap from %v, want the last proof %v", g.From, t0.Add(time.Minute))
	}
	// What is billed is at most what ran, and what the record proves:
	// the first minute, and the runs whose start is still listed.
	truth := int64(60 + 6*60) // minutes 0-2 ran, then a minute in every two
	got := secondsOn(l, "2026-12-05")
	if got > truth {
		t.Fatalf("billed %d s, more than the %d s that ran", got, truth)
	}
	if len(l.Machines[0].Gaps) != 1 {
		t.Fatalf("ledger gaps = %v", l.Machines[0].Gaps)
	}
}

func TestMeterPriceChangeSplitsAtTheLook(t *testing.T) {
	h := newHistory("m1").at(t0, "launch", "created").at(t0, "start", "started")
	l := newLedger("2026-12-05")
	look(l, t0.Add(time.Hour), 3600, h.machine(10))
	look(l, t0.Add(2*time.Hour), 7200, h.machine(10))
	look(l, t0.Add(3*time.Hour), 7200, h.machine(10))
	bill := billed(l, "2026-12-05")
	if len(bill.Items) != 2 {
		t.Fatalf("items = %+v", bill.Items)
	}
	// Two hours at the old price (to the look that saw the change), one
	// at the new.
	if bill.TotalMicros != 2*3600+7200 {
		t.Fatalf("total %d, items %+v", bill.TotalMicros, bill.Items)
	}
}

func TestMeterMachineGoneEndsAtTheLastProof(t *testing.T) {
	h := newHistory("m1").at(t0, "launch", "created").at(t0, "start", "started")
	l := newLedger("2026-12-05")
	look(l, t0.Add(time.Hour), 1, h.machine(10))
	changed, _ := look(l, t0.Add(2*time.Hour), 1)
	if !changed || l.Machines[0].GoneAt == nil {
		t.Fatalf("machine not marked gone: %+v", l.Machines[0])
	}
	if got := secondsOn(l, "2026-12-05"); got != 3600 {
		t.Fatalf("billed %d s, want 3600", got)
	}
	// A list that is not complete says nothing about absent machines.
	l2 := newLedger("2026-12-05")
	look(l2, t0.Add(time.Hour), 1, h.machine(10))
	Meter(l2, Observation{At: t0.Add(2 * time.Hour), Price: flat(1)})
	if l2.Machines[0].GoneAt != nil {
		t.Fatal("an incomplete list marked a machine gone")
	}
}

func TestMeterRecordsNothingBeforeOpenFrom(t *testing.T) {
	day := StartOf("2026-12-06")
	h := newHistory("m1").at(day.Add(-time.Hour), "launch", "created").at(day.Add(-time.Hour), "start", "started")
	l := newLedger("2026-12-06")
	look(l, day.Add(time.Hour), 1, h.machine(10))
	if got := secondsOn(l, "2026-12-05"); got != 0 {
		t.Fatalf("billed %d s on a day before openFrom", got)
	}
	if got := secondsOn(l, "2026-12-06"); got != 3600 {
		t.Fatalf("billed %d s, want 3600", got)
	}
}

func TestMeterSameMillisecondEvents(t *testing.T) {
	h := newHistory("m1").at(t0, "launch", "created").at(t0, "start", "started")
	l := newLedger("2026-12-05")
	look(l, t0.Add(time.Minute), 1, h.machine(10))
	// Two more events in the same millisecond as the last one metered.
	h.at(t0.Add(time.Minute), "exit", "stopped")
	look(l, t0.Add(2*time.Minute), 1, h.machine(10))
	if got := secondsOn(l, "2026-12-05"); got != 60 {
		t.Fatalf("billed %d s, want 60", got)
	}
	if s := l.Machines[0].LastEvent; s.Status != "stopped" {
		t.Fatalf("cursor = %+v", s)
	}
}

func TestBillSplitsAtMidnightAndItemsSumToTotal(t *testing.T) {
	start := StartOf("2026-12-06").Add(-90 * time.Minute)
	h := newHistory("m1").at(start, "launch", "created").at(start, "start", "started")
	l := newLedger("2026-12-05")
	look(l, start.Add(3*time.Hour), 1900, h.machine(10))
	d1, d2 := billed(l, "2026-12-05"), billed(l, "2026-12-06")
	if d1.Items[0].QuantitySeconds != 5400 || d2.Items[0].QuantitySeconds != 5400 {
		t.Fatalf("days = %+v / %+v", d1, d2)
	}
	// 5400 s at 1900/h = 2850 exactly.
	if d1.TotalMicros != 2850 {
		t.Fatalf("total %d", d1.TotalMicros)
	}
	var sum int64
	for _, it := range d2.Items {
		sum += it.AmountMicros
	}
	if sum != d2.TotalMicros {
		t.Fatalf("items sum to %d, total %d", sum, d2.TotalMicros)
	}
}

func TestPruneKeepsTheOpenSegment(t *testing.T) {
	start := StartOf("2026-12-06").Add(-time.Hour)
	h := newHistory("m1").at(start, "launch", "created").at(start, "start", "started")
	stopped := newHistory("m2").at(start, "launch", "created").at(start, "start", "started").at(start.Add(time.Minute), "exit", "stopped")
	l := newLedger("2026-12-05")
	look(l, start.Add(30*time.Minute), 1, h.machine(10), stopped.machine(10))
	if !Prune(l, "2026-12-06") {
		t.Fatal("prune changed nothing")
	}
	if l.OpenFrom != "2026-12-06" || len(l.Machines) != 2 {
		t.Fatalf("ledger after prune = %+v", l)
	}
	if n := len(l.Machines[1].Segments); n != 0 {
		t.Fatalf("the stopped machine kept %d segments", n)
	}
	// The running machine goes on from midnight at the next look.
	look(l, start.Add(2*time.Hour), 1, h.machine(10), stopped.machine(10))
	if got := secondsOn(l, "2026-12-06"); got != 3600 {
		t.Fatalf("billed %d s after prune, want 3600", got)
	}
	if got := secondsOn(l, "2026-12-05"); got != 0 {
		t.Fatalf("a pruned day still holds %d s", got)
	}
}

func TestAmountRoundsDownAndNeverOverflows(t *testing.T) {
	for _, c := range []struct{ secs, price, want int64 }{
		{3600, 1900, 1900}, {1, 1900, 0}, {2, 1900, 1}, {86400, 1_000_000_000_000, 24_000_000_000_000},
		{0, 5, 0}, {5, 0, 0}, {1 << 62, 1 << 62, maxInt64},
	} {
		if got := Amount(c.secs, c.price); got != c.want {
			t.Errorf("Amount(%d, %d) = %d, want %d", c.secs, c.price, got, c.want)
		}
	}
}

// TestMeterNeverBillsMoreThanRan drives random histories through random
// looks with a capped event list: the bill never exceeds the truth, and
// equals it (to a second per run) whenever no gap was found.
func TestMeterNeverBillsMoreThanRan(t *testing.T) {
	gapSeeds := 0
	defer func() { t.Logf("%d of 300 histories lost events to the cap", gapSeeds) }()
	for seed := uint64(1); seed <= 300; seed++ {
		rng := rand.New(rand.NewPCG(seed, 7))
		h := newHistory("m1").at(t0, "launch", "created")
		l := newLedger("2026-12-05")
		now, runningSince, truth := t0, time.Time{}, time.Duration(0)
		state := "created"
		runs := 0
		sawGap := false
		for step := 0; step < 40; step++ {
			now = now.Add(time.Duration(rng.IntN(600_000)+1) * time.Millisecond)
			if rng.IntN(3) > 0 { // a transition
				if state == "started" {
					truth += now.Sub(runningSince)
					h.at(now, "exit", "stopped")
					state = "stopped"
				} else {
					h.at(now, "start", "started")
					state, runningSince = "started", now
					runs++
				}
			}
			if rng.IntN(2) == 0 { // a look, some time later
				now = now.Add(time.Duration(rng.IntN(1000)) * time.Millisecond)
				if _, gaps := look(l, now, 3600, h.machine(4)); len(gaps) > 0 {
					sawGap = true
				}
			}
		}
		now = now.Add(time.Second)
		if _, gaps := look(l, now, 3600, h.machine(4)); len(gaps) > 0 {
			sawGap = true
		}
		if state == "started" {
			truth += now.Sub(runningSince)
		}
		var got time.Duration
		for _, seg := range l.Machines[0].Segments {
			got += seg.To.Sub(seg.From.Time)
		}
		if got > truth {
			t.Fatalf("seed %d: metered %v, more than the %v that ran", seed, got, truth)
		}
		if sawGap {
			gapSeeds++
		}
		if !sawGap && truth-got > time.Duration(runs)*time.Millisecond {
			t.Fatalf("seed %d: metered %v of %v with no gap found", seed, got, truth)
		}
	}
}
