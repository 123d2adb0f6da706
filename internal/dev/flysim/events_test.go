package flysim

// A machine's state changes, made through the Machines API, reach the
// provider as machine events: the composition of flysim/machines and
// flysim/events. The sender on its own is tested in flysim/events.

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	fly "github.com/superfly/fly-go"

	"github.com/jetway-dev/jetway/internal/dev/flysign"
)

const testEventsSecret = "events-secret"

func TestEventsLifecycle(t *testing.T) {
	t.Parallel()
	rc := newEventReceiver(t, nil)
	e := newEnv(t, Options{EventsURL: rc.URL(), EventsSecret: testEventsSecret})
	e.createApp("evapp")
	m := e.started("evapp")
	if err := e.c.Stop(e.ctx, "evapp", fly.StopMachineInput{ID: m.ID}, ""); err != nil {
		t.Fatal(err)
	}
	e.wait("evapp", m, "stopped")

	all := []string{"created", "starting", "started", "stopping", "stopped"}
	got := rc.WaitFor("the machine's events", hasAll(m.ID, all...))
	ids := map[string]bool{}
	for _, g := range got {
		checkEvent(t, g, "evapp", true)
		if ids[g.ID] {
			t.Errorf("ce-id %s sent twice", g.ID)
		}
		ids[g.ID] = true
	}
	if len(got) != len(all) {
		t.Errorf("got %d events %v, want one each of %v", len(got), statuses(got), all)
	}
	wantData := map[string]map[string]any{
		"created":  {"event": "launch", "source": "user"},
		"starting": {"event": "start", "source": "flyd"},
		"started":  {"event": "start", "source": "flyd"},
		"stopping": {"event": "stop", "source": "user"},
		"stopped":  {"event": "exit", "source": "flyd"},
	}
	for st, want := range wantData {
		g := forMachine(got, m.ID, st)[0]
		for k, v := range want {
			if g.Parsed.Data[k] != v {
				t.Errorf("%s: data %v, want %v", st, g.Parsed.Data, want)
			}
		}
	}
	waitStats(t, e.sim, len(all), 0) // counted once the answer is read

	// The same secret, with anything changed, fails verification.
	g := forMachine(got, m.ID, "started")[0]
	sig := g.Header.Get("X-Signature")
	if sig != strings.ToLower(sig) || len(sig) != 64 {
		t.Errorf("X-Signature %q is not lowercase hex", sig)
	}
	for _, msg := range [][]byte{
		EventSigningMessage(g.ID, "io.fly.machine.stopped", g.Source, g.Time, g.Body),
		EventSigningMessage(g.ID, g.Type, g.Source, g.Time, append([]byte(nil), append(g.Body, ' ')...)),
		EventSigningMessage("other", g.Type, g.Source, g.Time, g.Body),
	} {
		if flysign.Valid([]byte(testEventsSecret), msg, sig) {
			t.Errorf("signature also verifies %q", msg)
		}
	}

	// Destroying sends destroying and destroyed.
	if err := e.c.Destroy(e.ctx, "evapp", fly.RemoveMachineInput{ID: m.ID}, ""); err != nil {
		t.Fatal(err)
	}
	rc.WaitFor("destroy events", hasAll(m.ID, "destroying", "destroyed"))
}

func TestEventsFailedCarriesError(t *testing.T) {
	t.Parallel()
	rc := newEventReceiver(t, nil)
	e := newEnv(t, Options{EventsURL: rc.URL(), EventsSecret: testEventsSecret, Faults: Faults{Seed: 5, CrashRate: 1}})
	e.createApp("crashy")
	m := e.launch("crashy", launchInput("ams", nil))
	got := rc.WaitFor("a failed event", hasAll(m.ID, "failed"))
	g := forMachine(got, m.ID, "failed")[0]
	checkEvent(t, g, "crashy", true)
	reason, _ := g.Parsed.Data["Error"].(string)
	if !strings.Contains(reason, "exit") && !strings.Contains(reason, "out of memory") {
		t.Errorf("failed data %v has no reason", g.Parsed.Data)
	}
	if tr, _ := g.Parsed.Data["Transition"].(string); tr == "" {
		t.Errorf("failed data %v has no Transition", g.Parsed.Data)
	}
	if len(g.Parsed.Data) != 2 {
		t.Errorf("failed data %v: want just Error and Transition, as in Fly's sample", g.Parsed.Data)
	}
}

// skipLaunch creates a machine that stays "created": exactly one event.
func skipLaunch(e *env, app string) *fly.Machine {
	e.t.Helper()
	in := launchInput("ams", nil)
	in.SkipLaunch = true
	return e.launch(app, in)
}

func waitStats(t *testing.T, s *Server, sent, failed int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		gs, gf := s.EventStats()
		if gs == sent && gf == failed {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("EventStats = %d sent, %d failed; want %d, %d", gs, gf, sent, failed)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestNoEventsWithoutURL(t *testing.T) {
	t.Parallel()
	rc := newEventReceiver(t, nil)
	e := newEnv(t, Options{EventsSecret: testEventsSecret})
	e.createApp("quiet")
	m := e.started("quiet")
	time.Sleep(100 * time.Millisecond)
	if n := len(rc.All()); n != 0 {
		t.Fatalf("%d events without an EventsURL", n)
	}
	if sent, failed := e.sim.EventStats(); sent != 0 || failed != 0 {
		t.Fatalf("EventStats = %d, %d", sent, failed)
	}
	// That no senders even start is events.TestNoSendersWithoutURL's.

	// Switched on at runtime (over HTTP), events flow; switched off, they stop.
	code, body := rawDo(t, e, "PUT", "/flysim/v1/events", `{"url":"`+rc.URL()+`","secret":"`+testEventsSecret+`"}`, testToken)
	if code != http.StatusOK || !strings.Contains(string(body), `"signed":true`) || strings.Contains(string(body), testEventsSecret) {
		t.Fatalf("PUT events = %d %s", code, body)
	}
	if err := e.c.Stop(e.ctx, "quiet", fly.StopMachineInput{ID: m.ID}, ""); err != nil {
		t.Fatal(err)
	}
	e.wait("quiet", m, "stopped")
	got := rc.WaitFor("stop events", hasAll(m.ID, "stopping", "stopped"))
	for _, g := range got {
		checkEvent(t, g, "quiet", true)
	}
	e.sim.SetEventsURL("", "")
	n := len(rc.All())
	if _, err := e.c.Start(e.ctx, "quiet", m.ID, ""); err != nil {
		t.Fatal(err)
	}
	e.wait("quiet", m, "started")
	time.Sleep(100 * time.Millisecond)
	if got := len(rc.All()); got != n {
		t.Errorf("%d events after SetEventsURL(\"\")", got-n)
	}

	for _, bad := range []string{`{"url":"ftp://x/y"}`, `{"url":"/relative"}`, ``, `{"uri":"http://x"}`} {
		if code, _ := rawDo(t, e, "PUT", "/flysim/v1/events", bad, testToken); code != http.StatusBadRequest && bad != `{"uri":"http://x"}` {
			t.Errorf("PUT events %s = %d, want 400", bad, code)
		}
	}
	if code, _ := rawDo(t, e, "GET", "/flysim/v1/events", "", ""); code != http.StatusUnauthorized {
		t.Errorf("GET events without a token = %d", code)
	}
	if code, _ := rawDo(t, e, "POST", "/flysim/v1/events", "{}", testToken); code != http.StatusMethodNotAllowed {
		t.Errorf("POST events = %d, want 405", code)
	}
}

func TestEventsDuplicateFault(t *testing.T) {
	t.Parallel()
	rc := newEventReceiver(t, nil)
	e := newEnv(t, Options{EventsURL: rc.URL(), EventsSecret: testEventsSecret, Faults: Faults{Seed: 9, DuplicateEventRate: 1}})
	e.createApp("dups")
	m := skipLaunch(e, "dups")
	got := rc.WaitFor("the event twice", func(evs []gotEvent) bool { return len(evs) >= 2 })
	if got[0].ID != got[1].ID || got[0].Parsed.MachineID != m.ID || string(got[0].Body) != string(got[1].Body) {
		t.Errorf("duplicates differ: %s %s / %s %s", got[0].ID, got[0].Body, got[1].ID, got[1].Body)
	}
	waitStats(t, e.sim, 2, 0)
	if st := e.sim.EventsStatus(); st.Duplicated != 1 {
		t.Errorf("duplicated = %d", st.Duplicated)
	}

	code, body := rawDo(t, e, "GET", "/flysim/v1/faults", "", testToken)
	if code != http.StatusOK || !strings.Contains(string(body), `"duplicate_event_rate":1`) {
		t.Errorf("GET faults = %d %s", code, body)
	}
	var f Faults
	if err := json.Unmarshal(body, &f); err != nil || f.DuplicateEventRate != 1 {
		t.Errorf("faults JSON round trip: %v %+v", err, f)
	}
	if err := (Faults{DuplicateEventRate: 1.5}).Validate(); err == nil {
		t.Error("DuplicateEventRate 1.5 validated")
	}
}
