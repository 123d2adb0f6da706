package flysim

// Autostop and autostart seen from the provider: what Fly's proxy does to a
// machine shows up in its machine events with source fly-proxy. The rest of
// autostop is tested in flysim/machines.

import (
	"net/http"
	"testing"
	"time"

	fly "github.com/superfly/fly-go"
)

// eventSourceProxy is the source of the machine events Fly's proxy causes.
const eventSourceProxy = "fly-proxy"

const testIdleAfter = 250 * time.Millisecond

// simState reads a machine's state without a request, which would count
// against the rate limit.
func simState(e *env, id string) string {
	for _, m := range e.sim.AllMachines() {
		if m.ID == id {
			return m.State
		}
	}
	return "gone"
}

// lastEvent is the newest entry of the machine's /events list.
func lastEvent(t *testing.T, e *env, app, id string) fly.MachineEvent {
	t.Helper()
	m := e.get(app, id)
	if len(m.Events) == 0 {
		t.Fatalf("machine %s has no events", id)
	}
	return *m.Events[0]
}

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

func TestAutostopStopsIdleMachineAndTrafficWakesIt(t *testing.T) {
	t.Parallel()
	rc := newEventReceiver(t, nil)
	e := newEnv(t, Options{IdleAfter: testIdleAfter, EventsURL: rc.URL(), EventsSecret: testEventsSecret})
	e.createApp("idle")
	m := e.launch("idle", serviceInput(fly.MachineAutostopStop, true, 0))
	e.wait("idle", m, "started")
	began := time.Now()
	e.wait("idle", m, "stopped")
	if d := time.Since(began); d < testIdleAfter-20*time.Millisecond {
		t.Errorf("stopped %s after starting, before IdleAfter %s", d, testIdleAfter)
	}
	if ev := lastEvent(t, e, "idle", m.ID); ev.Status != "stopped" {
		t.Errorf("last event %+v", ev)
	}
	got := rc.WaitFor("the proxy's stop", hasAll(m.ID, "stopping", "stopped"))
	if g := forMachine(got, m.ID, "stopping")[0]; g.Parsed.Data["source"] != eventSourceProxy || g.Parsed.Data["event"] != "stop" {
		t.Errorf("stopping event data %v, want source %s", g.Parsed.Data, eventSourceProxy)
	}
	mm := e.get("idle", m.ID)
	if len(mm.Events) < 2 || mm.Events[1].Source != eventSourceProxy || mm.Events[1].Status != "stopping" {
		t.Errorf("machine events %+v: want the stop from %s", mm.Events, eventSourceProxy)
	}

	// A request wakes it, over HTTP behind the token.
	if code, _ := rawDo(t, e, "POST", "/flysim/v1/apps/idle/traffic", "", ""); code != http.StatusUnauthorized {
		t.Errorf("traffic without a token = %d", code)
	}
	code, body := rawDo(t, e, "POST", "/flysim/v1/apps/idle/traffic", "", testToken)
	if code != http.StatusOK || string(body) != `{"started":"`+m.ID+`"}` {
		t.Fatalf("traffic = %d %s", code, body)
	}
	e.wait("idle", m, "started")
	rc.WaitFor("the proxy's start", func(evs []gotEvent) bool {
		for _, g := range forMachine(evs, m.ID, "starting") {
			if g.Parsed.Data["source"] == eventSourceProxy {
				return true
			}
		}
		return false
	})

	// Traffic keeps it up: requests every IdleAfter/3 for 3×IdleAfter.
	for end := time.Now().Add(3 * testIdleAfter); time.Now().Before(end); time.Sleep(testIdleAfter / 3) {
		if id, err := e.sim.Traffic("idle"); err != nil || id != "" {
			t.Fatalf("Traffic on a started machine = %q, %v; want nothing started", id, err)
		}
		if st := simState(e, m.ID); st != "started" {
			t.Fatalf("stopped while getting traffic: %s", st)
		}
	}
	// Then, left alone, it stops again.
	e.wait("idle", m, "stopped")

	if _, err := e.sim.Traffic("nope"); err == nil {
		t.Error("Traffic on an unknown app succeeded")
	}
	if code, _ := rawDo(t, e, "POST", "/flysim/v1/apps/nope/traffic", "", testToken); code != http.StatusNotFound {
		t.Errorf("traffic to an unknown app = %d", code)
	}
	if code, _ := rawDo(t, e, "GET", "/flysim/v1/apps/idle/traffic", "", testToken); code != http.StatusMethodNotAllowed {
		t.Errorf("GET traffic = %d, want 405", code)
	}
}
