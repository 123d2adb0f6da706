package machines

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	fly "github.com/superfly/fly-go"
)

const (
	goodImage = "registry.fly.io/db:1"
	badImage  = "registry.fly.io/db:2-broken"
)

// A bad image fails the checks of every machine running it, those created
// later included, and nothing else; clearing it heals them at once.
func TestImageCheckFailures(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	e.createApp("app")
	const grace = 200 * time.Millisecond
	bad := e.launch("app", checkedInput(badImage, grace))
	good := e.launch("app", checkedInput(goodImage, grace))
	passing, critical := summaryOf(checkedNames, fly.Passing), summaryOf(checkedNames, fly.Critical)
	e.awaitChecks("app", bad.ID, passing)
	e.awaitChecks("app", good.ID, passing)

	if err := e.sim.FailImageChecks(badImage); err != nil {
		t.Fatal(err)
	}
	got := e.get("app", bad.ID)
	if checkSummary(got) != critical {
		t.Fatalf("machine on the bad image: %s, want %s", checkSummary(got), critical)
	}
	outputs := map[string]string{
		"servicecheck-00-tcp-5432":  fmt.Sprintf("dial tcp [%s]:5432: connect: connection refused", got.PrivateIP),
		"servicecheck-01-http-8080": fmt.Sprintf("HTTP GET http://[%s]:8080/health: 500 Internal Server Error", got.PrivateIP),
	}
	for _, c := range got.Checks {
		if want, ok := outputs[c.Name]; ok && c.Output != want {
			t.Errorf("%s output %q, want %q", c.Name, c.Output, want)
		}
	}
	if got.State != "started" {
		t.Fatalf("a failing check changed the machine's state to %s", got.State)
	}
	if g := e.get("app", good.ID); checkSummary(g) != passing {
		t.Fatalf("machine on another image: %s", checkSummary(g))
	}

	// A machine created on the bad image later fails too, once its grace
	// period is over; before that it is in its grace period like any other.
	later := e.launch("app", checkedInput(badImage, grace))
	m := e.awaitChecks("app", later.ID, critical)
	if !strings.Contains(m.Checks[0].Output, "grace period") {
		t.Fatalf("in its grace period the output is %q", m.Checks[0].Output)
	}
	eventually(t, "the new machine's checks failing", func() bool {
		return strings.Contains(e.machineNow("app", later.ID).Checks[0].Output, "connection refused")
	})

	if got := e.sim.CheckFailures(); len(got.Images) != 1 || got.Images[0] != badImage || len(got.Machines) != 0 {
		t.Fatalf("CheckFailures = %+v", got)
	}
	e.sim.ClearCheckFailures()
	for _, id := range []string{bad.ID, later.ID} {
		if g := e.get("app", id); checkSummary(g) != passing {
			t.Fatalf("after clearing, %s: %s", id, checkSummary(g))
		}
	}
}

// One machine's checks can fail alone, whatever its image, and only a
// machine that exists can be named.
func TestMachineCheckFailures(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	e.createApp("app")
	e.createApp("other")
	const grace = 200 * time.Millisecond
	sick := e.launch("app", checkedInput(goodImage, grace))
	well := e.launch("app", checkedInput(goodImage, grace))
	passing, critical := summaryOf(checkedNames, fly.Passing), summaryOf(checkedNames, fly.Critical)
	e.awaitChecks("app", well.ID, passing)

	if err := e.sim.FailMachineChecks("app", sick.ID); err != nil {
		t.Fatal(err)
	}
	e.awaitChecks("app", sick.ID, critical)
	if g := e.get("app", well.ID); checkSummary(g) != passing {
		t.Fatalf("the other machine: %s", checkSummary(g))
	}
	want := CheckFailures{Images: []string{}, Machines: []MachineRef{{App: "app", ID: sick.ID}}}
	if got := e.sim.CheckFailures(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("CheckFailures = %+v, want %+v", got, want)
	}
	// A restart does not heal a broken machine.
	if err := e.c.Restart(e.ctx, "app", fly.RestartMachineInput{ID: sick.ID}, ""); err != nil {
		t.Fatal(err)
	}
	e.wait("app", sick, "started")
	eventually(t, "checks failing again after the restart", func() bool {
		m := e.machineNow("app", sick.ID)
		return checkSummary(m) == critical && strings.Contains(m.Checks[0].Output, "connection refused")
	})

	for _, tc := range []struct {
		name string
		err  error
	}{
		{"another app's machine", e.sim.FailMachineChecks("other", sick.ID)},
		{"an unknown machine", e.sim.FailMachineChecks("app", "nope")},
		{"an unknown app", e.sim.FailMachineChecks("ghost", sick.ID)},
		{"a set naming an unknown machine", e.sim.SetCheckFailures(CheckFailures{Machines: []MachineRef{{App: "app", ID: "nope"}}})},
	} {
		if !errors.Is(tc.err, errUnknownMachine) {
			t.Errorf("%s: %v, want machine not found", tc.name, tc.err)
		}
	}
	if err := e.sim.FailImageChecks("Not An Image"); err == nil {
		t.Error("an invalid image reference was accepted")
	}
	if got := e.sim.CheckFailures(); len(got.Machines) != 1 || len(got.Images) != 0 {
		t.Fatalf("refused changes changed the failures: %+v", got)
	}

	e.sim.ClearCheckFailures()
	e.awaitChecks("app", sick.ID, passing)
}
