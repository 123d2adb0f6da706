package flysim

import (
	"testing"
	"time"

	fly "github.com/superfly/fly-go"

	"github.com/jetway-dev/jetway/internal/dev/flysim/internal/flysimtest"
)

// The composition forwards the event cap and the usage inspection to the
// Machines API; their behaviour is tested in flysim/machines.
func TestEventHistoryAndRunningTimeForwarded(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	clock := flysimtest.NewClock(t0)
	e := newEnv(t, Options{EventHistory: 1, Now: clock.Now})
	e.createApp("app")
	m := e.started("app")
	if ev := e.get("app", m.ID).Events; len(ev) != 1 || ev[0].Status != "started" {
		t.Fatalf("events with EventHistory 1: %+v", ev)
	}
	clock.Advance(90 * time.Second)
	if err := e.c.Destroy(e.ctx, "app", fly.RemoveMachineInput{ID: m.ID, Kill: true}, ""); err != nil {
		t.Fatal(err)
	}
	e.wait("app", m, "destroyed")
	if got := e.sim.RunningTime(m.ID, t0, t0.Add(time.Hour)); got != 90*time.Second {
		t.Errorf("RunningTime = %v, want 1m30s", got)
	}
	if h := e.sim.StateHistory(m.ID); len(h) == 0 || h[len(h)-1].State != "destroyed" {
		t.Errorf("StateHistory = %+v", h)
	}
	if got := e.sim.AllMachineIDs(); len(got) != 1 || got[0] != (MachineInfo{App: "app", ID: m.ID, Region: "ams", Size: "shared-cpu-1x", State: "destroyed"}) {
		t.Errorf("AllMachineIDs = %+v", got)
	}
}
