package extension

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	flygo "github.com/superfly/fly-go"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
	"github.com/jetway-dev/jetway/internal/fly"
)

// rolloutFixture is an extension of a primary in mad and replicas in syd
// and scl, all started; checks says which fail.
type rolloutFixture struct {
	keep    map[jetwayv1.MachineKey]*fly.Machine
	byID    map[string]*fly.Machine
	changed time.Time
	last    string // the phase of the last step
}

func newRolloutFixture() *rolloutFixture {
	f := &rolloutFixture{keep: map[jetwayv1.MachineKey]*fly.Machine{}, byID: map[string]*fly.Machine{}, changed: time.Unix(1_000_000, 0)}
	for _, m := range []*fly.Machine{
		machine("p", "primary", "mad", "2026-01-01T00:00:00Z", "old"),
		machine("s", "replica", "syd", "2026-01-01T00:00:00Z", "old"),
		machine("c", "replica", "scl", "2026-01-01T00:00:00Z", "old"),
	} {
		m.Checks = []*flygo.MachineCheckStatus{{Name: "servicecheck-00-tcp-5432", Status: flygo.Passing}}
		f.keep[keyOf(m)] = m
		f.byID[m.ID] = m
	}
	return f
}

// changedTo marks machine id as on the new config since f.changed, with its
// check in status.
func (f *rolloutFixture) changedTo(id string, status flygo.ConsulCheckStatus) {
	m := f.byID[id]
	m.Config.Metadata[fly.MetaConfigHash] = "new"
	m.Events = []*flygo.MachineEvent{{Type: "update", Timestamp: f.changed.UnixMilli()}}
	m.Checks[0].Status = status
	m.Checks[0].Output = "dial tcp [fdaa::3]:5432: connect: connection refused"
}

func (f *rolloutFixture) step(maxUnavailable int, after time.Duration) rolloutStep {
	s := f.stepWith(maxUnavailable, after)
	f.last = s.phase
	return s
}

func (f *rolloutFixture) stepWith(maxUnavailable int, after time.Duration) rolloutStep {
	var drifted []*fly.Machine
	for _, m := range f.keep {
		if m.Config.Metadata[fly.MetaConfigHash] != "new" {
			drifted = append(drifted, m)
		}
	}
	return planRollout(rolloutInput{
		keep: f.keep, drifted: drifted,
		health:         func(m *fly.Machine) machineHealth { return healthOf(m, false) },
		maxUnavailable: maxUnavailable, healthTimeout: time.Minute, now: f.changed.Add(after),
		wasRolling: f.last == jetwayv1.RolloutProgressing,
	})
}

func TestRolloutGoesReplicasFirstOneAtATime(t *testing.T) {
	f := newRolloutFixture()
	var order []string
	for range 3 {
		s := f.step(1, 0)
		if s.phase != jetwayv1.RolloutProgressing || len(s.update) != 1 {
			t.Fatalf("step %d: phase %s, update %v (%s)", len(order), s.phase, ids(s.update), s.message)
		}
		id := s.update[0].ID
		order = append(order, id)
		// Changed, the machine is out of service until its check passes.
		f.changedTo(id, flygo.Critical)
		if w := f.step(1, 10*time.Second); len(w.update) != 0 || w.phase != jetwayv1.RolloutProgressing {
			t.Fatalf("while %s boots: update %v, phase %s", id, ids(w.update), w.phase)
		}
		f.byID[id].Checks[0].Status = flygo.Passing
	}
	if diff := cmp.Diff([]string{"c", "s", "p"}, order); diff != "" {
		t.Errorf("order (-want +got):\n%s", diff)
	}
	if s := f.step(1, 0); s.phase != jetwayv1.RolloutComplete || s.updated != 3 || s.total != 3 {
		t.Errorf("after all: phase %s, %d/%d", s.phase, s.updated, s.total)
	}
}

func TestRolloutMaxUnavailableChangesReplicasTogetherThenThePrimary(t *testing.T) {
	f := newRolloutFixture()
	s := f.step(2, 0)
	if diff := cmp.Diff([]string{"c", "s"}, ids(s.update)); diff != "" {
		t.Fatalf("first step (-want +got):\n%s", diff)
	}
	f.changedTo("c", flygo.Passing)
	f.changedTo("s", flygo.Critical)
	if s := f.step(2, 5*time.Second); len(s.update) != 0 {
		t.Fatalf("the primary went before every replica served: %v", ids(s.update))
	}
	f.byID["s"].Checks[0].Status = flygo.Passing
	if s := f.step(2, 10*time.Second); !cmp.Equal([]string{"p"}, ids(s.update)) {
		t.Fatalf("last step: %v (%s)", ids(s.update), s.message)
	}
}

func TestRolloutPausesAtAMachineThatFailsItsChecks(t *testing.T) {
	f := newRolloutFixture()
	f.changedTo("c", flygo.Critical)
	if s := f.step(1, 30*time.Second); s.phase != jetwayv1.RolloutProgressing || len(s.update) != 0 {
		t.Fatalf("within the health timeout: phase %s, update %v", s.phase, ids(s.update))
	}
	s := f.step(1, 61*time.Second)
	if s.phase != jetwayv1.RolloutPaused || s.failed == nil || s.failed.ID != "c" || len(s.update) != 0 {
		t.Fatalf("past the timeout: phase %s, failed %v, update %v", s.phase, s.failed, ids(s.update))
	}
	if s.updated != 1 || s.total != 3 {
		t.Errorf("progress %d/%d, want 1/3", s.updated, s.total)
	}
	t.Logf("message: %s", s.message)
	// Even with room to spare, nothing more is changed.
	if s := f.step(3, 61*time.Second); len(s.update) != 0 {
		t.Errorf("paused rollout changed %v", ids(s.update))
	}
	// The machine recovers: the rollout goes on.
	f.byID["c"].Checks[0].Status = flygo.Passing
	if s := f.step(1, 62*time.Second); s.phase != jetwayv1.RolloutProgressing || !cmp.Equal([]string{"s"}, ids(s.update)) {
		t.Errorf("after recovery: phase %s, update %v", s.phase, ids(s.update))
	}
}

func TestRolloutChangesAnUnhealthyMachineWithoutSpendingTheBudget(t *testing.T) {
	f := newRolloutFixture()
	// scl is down on the old config: changing it costs nothing, and may
	// be the fix; syd may go too, within maxUnavailable 1? No: scl is
	// already out, so the budget is spent.
	f.byID["c"].Checks[0].Status = flygo.Critical
	s := f.step(1, 0)
	if diff := cmp.Diff([]string{"c"}, ids(s.update)); diff != "" {
		t.Errorf("update (-want +got):\n%s", diff)
	}
}

func TestRolloutWaitsForASettlingMachine(t *testing.T) {
	f := newRolloutFixture()
	f.byID["c"].State = "starting"
	s := f.step(1, 0)
	if len(s.update) != 0 {
		t.Errorf("changed %v while scl was starting (maxUnavailable 1)", ids(s.update))
	}
}

// TestRolloutStateComesFromFlyWhenStatusWasLost: a pass whose status write
// was lost after it updated the last machine leaves no Progressing behind;
// the update event on Fly still makes the settling machine a rollout's,
// and its failure a pause.
func TestRolloutStateComesFromFlyWhenStatusWasLost(t *testing.T) {
	f := newRolloutFixture()
	for _, id := range []string{"c", "s", "p"} {
		f.changedTo(id, flygo.Passing)
	}
	f.byID["p"].Checks[0].Status = flygo.Critical
	f.last = jetwayv1.RolloutComplete // what the stale status says
	if s := f.stepWith(1, 10*time.Second); s.phase != jetwayv1.RolloutProgressing {
		t.Errorf("settling after an update, status lost: phase %s, want Progressing", s.phase)
	}
	if s := f.stepWith(1, 61*time.Second); s.phase != jetwayv1.RolloutPaused || s.failed.ID != "p" {
		t.Errorf("failing after an update, status lost: phase %s, want Paused at p", s.phase)
	}
	// Long after the update, a failing machine is an outage, not a change.
	if s := f.stepWith(1, 10*time.Minute); s.phase != jetwayv1.RolloutComplete {
		t.Errorf("failing ten timeouts after its update: phase %s, want Complete", s.phase)
	}
}
