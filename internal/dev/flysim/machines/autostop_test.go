package machines

import (
	"strings"
	"testing"
	"time"

	fly "github.com/superfly/fly-go"
)

const testIdleAfter = 250 * time.Millisecond

// serviceInput is a machine with one service, as fly.toml's http_service
// makes it.
func serviceInput(stop fly.MachineAutostop, autostart bool, minRunning int) fly.LaunchMachineInput {
	in := launchInput("ams", nil)
	svc := fly.MachineService{Protocol: "tcp", InternalPort: 8080, Autostop: &stop, Autostart: &autostart}
	if minRunning > 0 {
		svc.MinMachinesRunning = &minRunning
	}
	in.Config.Services = []fly.MachineService{svc}
	return in
}

func TestAutostopSuspend(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{IdleAfter: testIdleAfter})
	e.createApp("susp")
	m := e.launch("susp", serviceInput(fly.MachineAutostopSuspend, true, 0))
	e.wait("susp", m, "started")
	e.wait("susp", m, "suspended")
	id, err := e.sim.Traffic("susp")
	if err != nil || id != m.ID {
		t.Fatalf("Traffic = %q, %v", id, err)
	}
	e.wait("susp", m, "started")
}

func TestAutostopRules(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{IdleAfter: testIdleAfter})
	e.createApp("rules")
	// No autostop, no services, autostart off: each stays as it is.
	plain := e.launch("rules", launchInput("ams", nil))
	off := e.launch("rules", serviceInput(fly.MachineAutostopOff, true, 0))
	noStart := e.launch("rules", serviceInput(fly.MachineAutostopStop, false, 0))
	for _, m := range []*fly.Machine{plain, off, noStart} {
		e.wait("rules", m, "started")
	}
	e.wait("rules", noStart, "stopped")
	time.Sleep(2 * testIdleAfter)
	for _, m := range []*fly.Machine{plain, off} {
		if st := e.get("rules", m.ID).State; st != "started" {
			t.Errorf("machine without autostop is %s", st)
		}
	}
	// off (autostart true) is started and serving, so no start is needed;
	// stop it and noStart (autostart false) must still not be started.
	if id, _ := e.sim.Traffic("rules"); id != "" {
		t.Errorf("Traffic started %s while a machine was serving", id)
	}
	if err := e.c.Stop(e.ctx, "rules", fly.StopMachineInput{ID: off.ID}, ""); err != nil {
		t.Fatal(err)
	}
	e.wait("rules", off, "stopped")
	if id, _ := e.sim.Traffic("rules"); id != off.ID {
		t.Errorf("Traffic started %q, want %s, the only one with autostart", id, off.ID)
	}
}

func TestAutostopKeepsMinMachinesRunning(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{IdleAfter: testIdleAfter})
	e.createApp("min")
	a := e.launch("min", serviceInput(fly.MachineAutostopStop, true, 1))
	b := e.launch("min", serviceInput(fly.MachineAutostopStop, true, 1))
	e.wait("min", a, "started")
	e.wait("min", b, "started")
	time.Sleep(4 * testIdleAfter)
	states := []string{e.get("min", a.ID).State, e.get("min", b.ID).State}
	if (states[0] == "started") == (states[1] == "started") {
		t.Errorf("states %v: want one started (min_machines_running 1) and one stopped", states)
	}
}

func TestAutostopOffByDefault(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	e.createApp("nostop")
	m := e.launch("nostop", serviceInput(fly.MachineAutostopStop, true, 0))
	e.wait("nostop", m, "started")
	time.Sleep(300 * time.Millisecond)
	if st := e.get("nostop", m.ID).State; st != "started" {
		t.Fatalf("IdleAfter 0 stopped the machine: %s", st)
	}
	// Autostart works without autostop.
	if err := e.c.Stop(e.ctx, "nostop", fly.StopMachineInput{ID: m.ID}, ""); err != nil {
		t.Fatal(err)
	}
	e.wait("nostop", m, "stopped")
	if id, err := e.sim.Traffic("nostop"); err != nil || id != m.ID {
		t.Fatalf("Traffic = %q, %v", id, err)
	}
	e.wait("nostop", m, "started")
	if ev := e.get("nostop", m.ID).Events; len(ev) < 2 || !strings.Contains(ev[1].Source, "proxy") {
		t.Errorf("events %+v: want the start from %s", ev, eventSourceProxy)
	}
}

func TestAutostopLeasedMachineStays(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{IdleAfter: testIdleAfter})
	e.createApp("leased")
	m := e.launch("leased", serviceInput(fly.MachineAutostopStop, true, 0))
	e.wait("leased", m, "started")
	ttl := 30
	if _, err := e.c.AcquireLease(e.ctx, "leased", m.ID, &ttl); err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * testIdleAfter)
	if st := e.get("leased", m.ID).State; st != "started" {
		t.Fatalf("the proxy stopped a leased machine: %s", st)
	}
}
