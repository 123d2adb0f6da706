package machines

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	fly "github.com/superfly/fly-go"
)

// checkedInput is a machine with the checks a plan gives it: a tcp and an
// http check on its first service, a tcp check on a second one and an
// identical copy of the first check on a third (Fly reports those once),
// and a top-level http check. Every check's grace period is grace.
func checkedInput(image string, grace time.Duration) fly.LaunchMachineInput {
	in := launchInput("ams", nil)
	in.Config.Image = image
	g := &fly.Duration{Duration: grace}
	tcp, http := "tcp", "http"
	health, ready, port := "/health", "/ready", 8080
	in.Config.Services = []fly.MachineService{
		{Protocol: "tcp", InternalPort: 5432, Checks: []fly.MachineServiceCheck{
			{Type: &tcp, GracePeriod: g},
			{Type: &http, Port: &port, HTTPPath: &health, GracePeriod: g},
		}},
		{Protocol: "tcp", InternalPort: 6000, Checks: []fly.MachineServiceCheck{{Type: &tcp, GracePeriod: g}}},
		{Protocol: "tcp", InternalPort: 5432, Checks: []fly.MachineServiceCheck{{Type: &tcp, GracePeriod: g}}},
	}
	in.Config.Checks = map[string]fly.MachineCheck{"ready": {Type: &http, Port: &port, HTTPPath: &ready, GracePeriod: g}}
	return in
}

var checkedNames = []string{"servicecheck-00-tcp-5432", "servicecheck-01-http-8080", "servicecheck-00-tcp-6000", "ready"}

// checkSummary renders a machine's checks as "name=status" in the order
// Fly listed them, for comparing and for failure messages.
func checkSummary(m *fly.Machine) string {
	var parts []string
	for _, c := range m.Checks {
		parts = append(parts, c.Name+"="+string(c.Status))
	}
	return strings.Join(parts, " ")
}

func summaryOf(names []string, status fly.ConsulCheckStatus) string {
	var parts []string
	for _, n := range names {
		parts = append(parts, n+"="+string(status))
	}
	return strings.Join(parts, " ")
}

// machineNow reads a machine without a request (no rate limit), as a
// poll loop must.
func (e *env) machineNow(app, id string) *fly.Machine {
	e.t.Helper()
	for _, m := range e.sim.Machines(app) {
		if m.ID == id {
			return &m
		}
	}
	e.t.Fatalf("machine %s not in app %s", id, app)
	return nil
}

// awaitChecks polls until m's checks read want, and returns the machine.
func (e *env) awaitChecks(app, id, want string) *fly.Machine {
	e.t.Helper()
	var got *fly.Machine
	eventually(e.t, "checks "+want, func() bool {
		got = e.machineNow(app, id)
		return checkSummary(got) == want
	})
	return got
}

// A started machine's checks go unlisted, then critical, then passing, at
// their grace period and not before; fly-go reads them off the wire.
func TestChecksAfterStart(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	e.createApp("app")
	const grace = 2 * time.Second // each phase lasts 1s: wide enough to see on a busy machine
	created := time.Now()
	m := e.launch("app", checkedInput("registry.fly.io/db:1", grace))
	if len(m.Checks) != 0 {
		t.Fatalf("a machine that never started lists checks: %s", checkSummary(m))
	}
	e.wait("app", m, "started")
	if got := e.get("app", m.ID); len(got.Checks) != 0 {
		t.Fatalf("right after it started: %s, want no checks listed yet", checkSummary(got))
	}

	graceWant := summaryOf(checkedNames, fly.Critical)
	inGrace := e.awaitChecks("app", m.ID, graceWant)
	for _, c := range inGrace.Checks {
		if !strings.Contains(c.Output, "grace period") || c.UpdatedAt == nil {
			t.Fatalf("check in its grace period: %+v", c)
		}
	}
	passing := summaryOf(checkedNames, fly.Passing)
	e.awaitChecks("app", m.ID, passing)
	if took := time.Since(created); took < grace {
		t.Fatalf("checks passed %s after the create, before their %s grace period", took, grace)
	}

	got := e.get("app", m.ID) // over the wire, as fly-go parses it
	if checkSummary(got) != passing {
		t.Fatalf("GET machine: %s, want %s", checkSummary(got), passing)
	}
	if all := got.AllHealthChecks(); all.Total != 4 || !all.AllPassing() {
		t.Fatalf("AllHealthChecks = %+v", all)
	}
	if top := got.TopLevelChecks(); top.Total != 1 || top.Passing != 1 {
		t.Fatalf("TopLevelChecks = %+v", top)
	}
	outputs := map[string]string{
		"servicecheck-00-tcp-5432":  "Success",
		"servicecheck-01-http-8080": fmt.Sprintf("HTTP GET http://[%s]:8080/health: 200 OK", got.PrivateIP),
		"ready":                     fmt.Sprintf("HTTP GET http://[%s]:8080/ready: 200 OK", got.PrivateIP),
	}
	for i, c := range got.Checks {
		if want, ok := outputs[c.Name]; ok && c.Output != want {
			t.Errorf("%s output %q, want %q", c.Name, c.Output, want)
		}
		// Listed and passed a second apart (half the grace period).
		if listed := inGrace.Checks[i].UpdatedAt; c.UpdatedAt == nil || c.UpdatedAt.Sub(*listed) < grace/4 {
			t.Errorf("%s updated_at %v, listed at %v: not moved when it passed", c.Name, c.UpdatedAt, listed)
		}
	}
	listed, err := e.c.List(e.ctx, "app", "")
	if err != nil || len(listed) != 1 || checkSummary(listed[0]) != passing {
		t.Fatalf("list machines: %v, %+v", err, listed)
	}
}

// Checks only pass while the machine is started: stopped, they are all
// critical; started again, they start over.
func TestChecksFollowTheMachine(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	e.createApp("app")
	const grace = 200 * time.Millisecond
	m := e.launch("app", checkedInput("registry.fly.io/db:1", grace))
	passing := summaryOf(checkedNames, fly.Passing)
	e.awaitChecks("app", m.ID, passing)

	if err := e.c.Stop(e.ctx, "app", fly.StopMachineInput{ID: m.ID}, ""); err != nil {
		t.Fatal(err)
	}
	e.wait("app", m, "stopped")
	stopped := e.get("app", m.ID)
	if want := summaryOf(checkedNames, fly.Critical); checkSummary(stopped) != want {
		t.Fatalf("stopped: %s, want %s", checkSummary(stopped), want)
	}
	if out := stopped.Checks[0].Output; !strings.Contains(out, "machine is stopped") {
		t.Fatalf("stopped check output %q", out)
	}

	if _, err := e.c.Start(e.ctx, "app", m.ID, ""); err != nil {
		t.Fatal(err)
	}
	e.awaitChecks("app", m.ID, passing)

	// An update onto a config with other checks reports those.
	in := checkedInput("registry.fly.io/db:2", grace)
	in.Config.Services = in.Config.Services[1:2]
	in.Config.Checks = nil
	if _, err := e.c.Update(e.ctx, "app", fly.LaunchMachineInput{ID: m.ID, Config: in.Config}, ""); err != nil {
		t.Fatal(err)
	}
	e.awaitChecks("app", m.ID, "servicecheck-00-tcp-6000=passing")
}

// A machine without checks lists none, started or not.
func TestNoChecksWithoutConfig(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	e.createApp("app")
	m := e.started("app")
	// Absence can only be seen by waiting as long as a check would take.
	time.Sleep(DefaultCheckGracePeriod + 100*time.Millisecond)
	if got := e.get("app", m.ID); got.Checks != nil {
		t.Fatalf("checks %s on a machine with none configured", checkSummary(got))
	}
}

// An unset grace period is flysim's default, not zero.
func TestDefaultGracePeriod(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	e.createApp("app")
	in := launchInput("ams", nil)
	tcp := "tcp"
	in.Config.Services = []fly.MachineService{{Protocol: "tcp", InternalPort: 5432, Checks: []fly.MachineServiceCheck{{Type: &tcp}}}}
	created := time.Now()
	m := e.launch("app", in)
	e.awaitChecks("app", m.ID, "servicecheck-00-tcp-5432=passing")
	if took := time.Since(created); took < DefaultCheckGracePeriod {
		t.Fatalf("passed %s after the create, before the default %s grace period", took, DefaultCheckGracePeriod)
	}
}

// Fly's own check rules, and flysim's stricter ones, refuse bad checks at
// create.
func TestInvalidChecksAreRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	e.createApp("app")
	grpc, tcp, noSlash := "grpc", "tcp", "health"
	zero, minus := 0, &fly.Duration{Duration: -time.Second}
	for _, tc := range []struct {
		name string
		edit func(cfg *fly.MachineConfig)
		msg  string
	}{
		{"unknown type", func(cfg *fly.MachineConfig) { cfg.Services[0].Checks[0].Type = &grpc }, "services[0].checks[0].type must be tcp or http"},
		{"no type", func(cfg *fly.MachineConfig) { cfg.Services[0].Checks[0].Type = nil }, "type must be tcp or http"},
		{"port 0", func(cfg *fly.MachineConfig) { cfg.Services[0].Checks[0].Port = &zero }, "port 0 out of range"},
		{"relative path", func(cfg *fly.MachineConfig) { cfg.Services[0].Checks[1].HTTPPath = &noSlash }, "must start with /"},
		{"negative grace", func(cfg *fly.MachineConfig) { cfg.Services[0].Checks[0].GracePeriod = minus }, "must not be negative"},
		{"top-level without port", func(cfg *fly.MachineConfig) {
			cfg.Checks = map[string]fly.MachineCheck{"alive": {Type: &tcp}}
		}, `checks["alive"].port is required`},
	} {
		in := checkedInput("registry.fly.io/db:1", time.Second)
		tc.edit(in.Config)
		_, err := e.c.Launch(e.ctx, "app", in)
		if err == nil || httpStatus(err) != http.StatusBadRequest || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s: %v, want 400 containing %q", tc.name, err, tc.msg)
		}
	}
	if got := e.sim.Machines("app"); len(got) != 0 {
		t.Fatalf("refused creates left %d machines", len(got))
	}
}

// Check times are the server's clock's, as every timestamp is; the grace
// period runs on the real clock, as every simulator timer does, so a
// clock that stands still does not hold checks in their grace period.
func TestCheckTimesComeFromTheServerClock(t *testing.T) {
	t.Parallel()
	at := time.Date(2031, 1, 2, 3, 4, 5, 0, time.UTC)
	clock := newFakeClock(at)
	e := newEnv(t, Options{Now: clock.Now})
	e.createApp("app")
	m := e.launch("app", checkedInput(goodImage, 100*time.Millisecond))
	e.awaitChecks("app", m.ID, summaryOf(checkedNames, fly.Passing))
	clock.Advance(time.Hour)
	if err := e.sim.FailMachineChecks("app", m.ID); err != nil {
		t.Fatal(err)
	}
	for _, c := range e.get("app", m.ID).Checks {
		if c.UpdatedAt == nil || !c.UpdatedAt.Equal(at.Add(time.Hour)) {
			t.Fatalf("%s updated_at %v, want the server clock's %v", c.Name, c.UpdatedAt, at.Add(time.Hour))
		}
	}
}
