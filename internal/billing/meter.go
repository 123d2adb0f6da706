package billing

import (
	"sort"
	"time"

	flygo "github.com/superfly/fly-go"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
)

// A machine runs from an event that leaves it "started" until the next
// event that leaves it anything else: only settled running time is
// charged, never booting or stopping, and only what an event or a look
// proves. The meter never reads a clock: observedAt is when the caller's
// list of machines was answered.

// stateStarted is Fly's state of a running machine.
const stateStarted = flygo.MachineStateStarted

// Pricer answers the price of an hour of running at a size.
type Pricer func(size string) int64

// Observation is one look at an extension's machines on Fly.
type Observation struct {
	// Machines are the extension's live machines as Fly listed them, with
	// the events Fly lists for each.
	Machines []*flygo.Machine
	// At is when Fly answered the list.
	At time.Time
	// Complete says Machines is every live machine of the extension, so
	// that a metered machine missing from it is gone. A list made only to
	// record usage before a destroy is complete too.
	Complete bool
	// Price prices the machines as the extension's plan says now. Nil
	// when the plan cannot be read: running segments keep their price, and
	// new ones are priced 0.
	Price Pricer
}

func (o Observation) price(size string) int64 {
	if o.Price == nil {
		return 0
	}
	return o.Price(size)
}

// Gap is machine time Fly's history could not prove either way.
type Gap struct {
	MachineID string
	From, To  time.Time
}

// Meter records what obs proves into ledger: new events become running
// segments, a running machine's segment extends to obs.At, a price change
// splits it there, and machines missing from a complete list are gone.
// The volumes the listed machines are bound to are proven to exist at
// obs.At (volumes.go). Nothing before ledger.OpenFrom is recorded. It
// reports whether the ledger changed and the gaps it found: intervals whose events rolled off
// Fly's list before they were read, which are never billed.
func Meter(ledger *jetwayv1.UsageLedgerSpec, obs Observation) (changed bool, gaps []Gap) {
	window := StartOf(ledger.OpenFrom)
	// Fly's times are milliseconds; a look's time is kept to the same
	// grain, so that a ledger read back from the API server (which keeps
	// microseconds) compares equal to the one written.
	obs.At = obs.At.UTC().Truncate(time.Millisecond)
	seen := map[string]bool{}
	for _, m := range obs.Machines {
		if m == nil || m.ID == "" {
			continue
		}
		seen[m.ID] = true
		mu := machineUsage(ledger, m)
		if mu.GoneAt != nil {
			continue // its usage is final
		}
		before := mu.DeepCopy()
		gaps = append(gaps, meterMachine(mu, m, obs, window)...)
		if !equalUsage(before, mu) {
			changed = true
		}
	}
	if proveMountedVolumes(ledger, obs) {
		changed = true
	}
	if obs.Complete {
		for i := range ledger.Machines {
			mu := &ledger.Machines[i]
			if seen[mu.ID] || mu.GoneAt != nil {
				continue
			}
			// Destroyed since the last look: its usage ends where it was
			// last proven. Fly forgets destroyed machines, so nothing
			// after that can be known.
			at := metav1.NewMicroTime(obs.At)
			mu.GoneAt = &at
			changed = true
		}
	}
	return changed, gaps
}

// machineUsage finds m's entry in the ledger, adding one for a machine
// not metered before.
func machineUsage(ledger *jetwayv1.UsageLedgerSpec, m *flygo.Machine) *jetwayv1.MachineUsage {
	for i := range ledger.Machines {
		if ledger.Machines[i].ID == m.ID {
			return &ledger.Machines[i]
		}
	}
	ledger.Machines = append(ledger.Machines, jetwayv1.MachineUsage{ID: m.ID, Region: m.Region})
	return &ledger.Machines[len(ledger.Machines)-1]
}

// meterMachine applies one machine's listed events and the look itself.
func meterMachine(mu *jetwayv1.MachineUsage, m *flygo.Machine, obs Observation, window time.Time) []Gap {
	events := oldestFirst(m.Events)
	fresh, bridged := unmetered(events, mu.LastEvent)
	var gaps []Gap
	if !bridged && len(fresh) > 0 {
		// Events between the last metered one (or the machine's creation)
		// and the oldest listed have rolled off: nothing is known there.
		from := provenThrough(mu)
		if mu.LastEvent == nil {
			from = createdAt(m, window)
		}
		to := fresh[0].Time().UTC()
		if from.Before(window) {
			from = window
		}
		endRun(mu, provenThrough(mu))
		if to.After(from) {
			mu.Gaps = append(mu.Gaps, jetwayv1.UsageGap{From: metav1.NewMicroTime(from), To: metav1.NewMicroTime(to)})
			gaps = append(gaps, Gap{MachineID: mu.ID, From: from, To: to})
		}
		mu.LastEvent = nil // the state before the oldest listed event is unknown
	}
	size := sizeOf(m)
	for _, e := range fresh {
		at := e.Time().UTC()
		wasRunning := running(mu)
		switch {
		case wasRunning && e.Status != stateStarted:
			endRun(mu, at)
		case !wasRunning && e.Status == stateStarted:
			startRun(mu, maxTime(at, window), size, obs.price(size))
		}
		advanceCursor(mu, e)
		setProven(mu, at)
	}
	// The look proves the machine's state up to obs.At if Fly's state
	// agrees with what its last event says.
	if mu.LastEvent != nil && (m.State == stateStarted) == running(mu) {
		if running(mu) && openSegment(mu) == nil {
			startRun(mu, maxTime(provenThrough(mu), window), size, obs.price(size))
		}
		if seg := openSegment(mu); seg != nil {
			if price := obs.price(seg.Size); obs.Price != nil && price != seg.UnitPriceMicrosPerHour {
				// The plan's price changed: the old price runs to this
				// look, the new one from it.
				extendRun(mu, obs.At)
				startRun(mu, maxTime(obs.At, window), seg.Size, price)
			}
			extendRun(mu, obs.At)
		}
		setProven(mu, obs.At)
	}
	return gaps
}

// oldestFirst orders Fly's events (listed newest first) by time, keeping
// Fly's order among events of the same millisecond.
func oldestFirst(in []*flygo.MachineEvent) []*flygo.MachineEvent {
	out := make([]*flygo.MachineEvent, 0, len(in))
	for i := len(in) - 1; i >= 0; i-- {
		if in[i] != nil {
			out = append(out, in[i])
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Timestamp < out[j].Timestamp })
	return out
}

// unmetered returns the events after the cursor, and whether the list
// reaches back to the cursor (or to the machine's launch), so that no
// event between can have rolled off unseen.
func unmetered(events []*flygo.MachineEvent, cursor *jetwayv1.MeteredEvent) (fresh []*flygo.MachineEvent, bridged bool) {
	if cursor == nil {
		return events, len(events) > 0 && events[0].Type == "launch"
	}
	at := cursor.At.UnixMilli()
	sameTime := int32(0)
	for i, e := range events {
		switch {
		case e.Timestamp < at:
			bridged = true
		case e.Timestamp == at:
			bridged = true
			sameTime++
			if sameTime > cursor.Seen {
				return events[i:], true
			}
		default:
			return events[i:], bridged
		}
	}
	return nil, true
}

// running reports whether the last metered event left the machine
// started: its last segment is then open.
func running(mu *jetwayv1.MachineUsage) bool {
	return mu.LastEvent != nil && mu.LastEvent.Status == stateStarted
}

// openSegment is the segment a running machine is in, or nil.
func openSegment(mu *jetwayv1.MachineUsage) *jetwayv1.UsageSegment {
	if !running(mu) || len(mu.Segments) == 0 {
		return nil
	}
	return &mu.Segments[len(mu.Segments)-1]
}

// startRun opens a running segment at from.
func startRun(mu *jetwayv1.MachineUsage, from time.Time, size string, price int64) {
	t := metav1.NewMicroTime(from)
	mu.Segments = append(mu.Segments, jetwayv1.UsageSegment{From: t, To: t, Size: size, UnitPriceMicrosPerHour: price})
}

// extendRun moves the open segment's end forward to at.
func extendRun(mu *jetwayv1.MachineUsage, at time.Time) {
	if seg := openSegment(mu); seg != nil && at.After(seg.To.Time) {
		seg.To = metav1.NewMicroTime(at)
	}
}

// endRun closes the open segment at at: the event that stopped the machine
// is the truth, even where a look had (by a skewed clock) proven it
// running a little longer. A segment left empty goes. The caller moves the
// cursor, which is what says the machine no longer runs.
func endRun(mu *jetwayv1.MachineUsage, at time.Time) {
	seg := openSegment(mu)
	if seg == nil {
		return
	}
	seg.To = metav1.NewMicroTime(maxTime(at, seg.From.Time))
	if !seg.To.After(seg.From.Time) {
		mu.Segments = mu.Segments[:len(mu.Segments)-1]
	}
}

// advanceCursor records e as the newest metered event.
func advanceCursor(mu *jetwayv1.MachineUsage, e *flygo.MachineEvent) {
	at := metav1.NewMicroTime(e.Time().UTC())
	if mu.LastEvent != nil && mu.LastEvent.At.UnixMilli() == e.Timestamp {
		mu.LastEvent.Seen++
		mu.LastEvent.Status = e.Status
		return
	}
	mu.LastEvent = &jetwayv1.MeteredEvent{At: at, Seen: 1, Status: e.Status}
}

func provenThrough(mu *jetwayv1.MachineUsage) time.Time {
	if mu.ProvenThrough == nil {
		return time.Time{}
	}
	return mu.ProvenThrough.Time
}

func setProven(mu *jetwayv1.MachineUsage, at time.Time) {
	if at.After(provenThrough(mu)) {
		t := metav1.NewMicroTime(at)
		mu.ProvenThrough = &t
	}
}

// sizeOf is the machine's guest size as Fly names it.
func sizeOf(m *flygo.Machine) string {
	if m.Config == nil || m.Config.Guest == nil {
		return "unknown"
	}
	return m.Config.Guest.ToSize()
}

// createdAt is when Fly says the machine was created, or the window's
// start when it does not say.
func createdAt(m *flygo.Machine, window time.Time) time.Time {
	if t, err := time.Parse(time.RFC3339, m.CreatedAt); err == nil {
		return t
	}
	return window
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func equalUsage(a, b *jetwayv1.MachineUsage) bool { return equality.Semantic.DeepEqual(a, b) }
