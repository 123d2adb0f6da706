package flysim

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"
	fly "github.com/superfly/fly-go"

	"github.com/jetway-dev/jetway/internal/signing"
)

const testEventsSecret = "events-secret"

// gotEvent is one POST the receiver got, parsed both by hand and by the
// CloudEvents SDK.
type gotEvent struct {
	header   http.Header
	body     []byte
	id, typ  string
	source   string
	ctime    string
	signedOK bool // X-Signature verified under testEventsSecret
	body2    MachineEventBody
	sdkErr   error // from cehttp.NewEventFromHTTPRequest
	sdkSpec  string
	sdkTime  time.Time
	sdkData  []byte
	sdkCType string
}

// eventReceiver is a provider's events endpoint. answer decides the status
// of the n-th request (1-based); nil answers 204.
type eventReceiver struct {
	t      *testing.T
	srv    *httptest.Server
	answer func(n int, r *http.Request) int

	mu     sync.Mutex
	n      int
	got    []gotEvent // every request, in arrival order
	notify chan struct{}
}

func newEventReceiver(t *testing.T, answer func(n int, r *http.Request) int) *eventReceiver {
	t.Helper()
	rc := &eventReceiver{t: t, answer: answer, notify: make(chan struct{}, 1)}
	rc.srv = httptest.NewServer(http.HandlerFunc(rc.serve))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *eventReceiver) url() string { return rc.srv.URL + "/flyio/extensions/events" }

func (rc *eventReceiver) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	g := gotEvent{
		header: r.Header.Clone(),
		body:   body,
		id:     r.Header.Get("ce-id"),
		typ:    r.Header.Get("ce-type"),
		source: r.Header.Get("ce-source"),
		ctime:  r.Header.Get("ce-time"),
	}
	g.signedOK = signing.Valid([][]byte{[]byte(testEventsSecret)},
		EventSigningMessage(g.id, g.typ, g.source, g.ctime, body), r.Header.Get("X-Signature"))
	_ = json.Unmarshal(body, &g.body2)
	// The SDK reads the body itself: give it a fresh copy.
	r2 := r.Clone(r.Context())
	r2.Body = io.NopCloser(strings.NewReader(string(body)))
	if ev, err := cehttp.NewEventFromHTTPRequest(r2); err != nil {
		g.sdkErr = err
	} else {
		g.sdkSpec, g.sdkTime, g.sdkData, g.sdkCType = ev.SpecVersion(), ev.Time(), ev.Data(), ev.DataContentType()
		if err := ev.Validate(); err != nil {
			g.sdkErr = err
		}
		if ev.ID() != g.id || ev.Type() != g.typ || ev.Source() != g.source {
			g.sdkErr = errString("SDK saw id/type/source " + ev.ID() + " " + ev.Type() + " " + ev.Source())
		}
	}
	rc.mu.Lock()
	rc.n++
	n := rc.n
	rc.got = append(rc.got, g)
	rc.mu.Unlock()
	select {
	case rc.notify <- struct{}{}:
	default:
	}
	code := http.StatusNoContent
	if rc.answer != nil {
		code = rc.answer(n, r)
	}
	w.WriteHeader(code)
}

type errString string

func (e errString) Error() string { return string(e) }

func (rc *eventReceiver) all() []gotEvent {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]gotEvent(nil), rc.got...)
}

// waitFor waits until cond holds over everything received so far.
func (rc *eventReceiver) waitFor(what string, cond func([]gotEvent) bool) []gotEvent {
	rc.t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		if got := rc.all(); cond(got) {
			return got
		}
		select {
		case <-rc.notify:
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			rc.t.Fatalf("timed out waiting for %s; got %d events: %v", what, len(rc.all()), statuses(rc.all()))
		}
	}
}

func statuses(evs []gotEvent) []string {
	out := make([]string, len(evs))
	for i, g := range evs {
		out[i] = g.body2.Status
	}
	return out
}

// forMachine picks the events about one machine with the given status.
func forMachine(evs []gotEvent, id, status string) []gotEvent {
	var out []gotEvent
	for _, g := range evs {
		if g.body2.MachineID == id && g.body2.Status == status {
			out = append(out, g)
		}
	}
	return out
}

func hasAll(id string, states ...string) func([]gotEvent) bool {
	return func(evs []gotEvent) bool {
		for _, st := range states {
			if len(forMachine(evs, id, st)) == 0 {
				return false
			}
		}
		return true
	}
}

// checkEvent holds one received event to the contract.
func checkEvent(t *testing.T, g gotEvent, app string, signed bool) {
	t.Helper()
	st := g.body2.Status
	if g.sdkErr != nil {
		t.Errorf("%s: CloudEvents SDK rejected the event: %v", st, g.sdkErr)
	}
	if g.header.Get("ce-specversion") != "1.0" || g.sdkSpec != "1.0" {
		t.Errorf("%s: specversion %q (SDK %q)", st, g.header.Get("ce-specversion"), g.sdkSpec)
	}
	if g.typ != "io.fly.machine."+st {
		t.Errorf("%s: ce-type %q", st, g.typ)
	}
	if want := "/apps/" + app + "/machines/" + g.body2.MachineID; g.source != want {
		t.Errorf("%s: ce-source %q, want %q", st, g.source, want)
	}
	if len(g.id) != 36 {
		t.Errorf("%s: ce-id %q is not a UUID", st, g.id)
	}
	ts, err := time.Parse(time.RFC3339Nano, g.ctime)
	if err != nil || ts.Location() != time.UTC || !ts.Equal(g.sdkTime) {
		t.Errorf("%s: ce-time %q (%v), SDK %v", st, g.ctime, err, g.sdkTime)
	}
	if g.header.Get("Content-Type") != "application/json" || g.sdkCType != "application/json" {
		t.Errorf("%s: content type %q (SDK %q)", st, g.header.Get("Content-Type"), g.sdkCType)
	}
	if string(g.sdkData) != string(g.body) {
		t.Errorf("%s: SDK data %s differs from body %s", st, g.sdkData, g.body)
	}
	if g.body2.AppName != app || g.body2.MachineID == "" || g.body2.Data == nil {
		t.Errorf("%s: body %s", st, g.body)
	}
	if signed != g.signedOK {
		t.Errorf("%s: signature valid = %v, want %v (X-Signature %q)", st, g.signedOK, signed, g.header.Get("X-Signature"))
	}
	for k := range g.header {
		if strings.HasPrefix(strings.ToLower(k), "ce-") {
			switch strings.ToLower(k) {
			case "ce-specversion", "ce-id", "ce-source", "ce-type", "ce-time":
			default:
				t.Errorf("%s: unexpected header %s", st, k)
			}
		}
	}
}

func TestEventsLifecycle(t *testing.T) {
	t.Parallel()
	rc := newEventReceiver(t, nil)
	e := newEnv(t, Options{EventsURL: rc.url(), EventsSecret: testEventsSecret})
	e.createApp("evapp")
	m := e.started("evapp")
	if err := e.c.Stop(e.ctx, "evapp", fly.StopMachineInput{ID: m.ID}, ""); err != nil {
		t.Fatal(err)
	}
	e.wait("evapp", m, "stopped")

	all := []string{"created", "starting", "started", "stopping", "stopped"}
	got := rc.waitFor("the machine's events", hasAll(m.ID, all...))
	ids := map[string]bool{}
	for _, g := range got {
		checkEvent(t, g, "evapp", true)
		if ids[g.id] {
			t.Errorf("ce-id %s sent twice", g.id)
		}
		ids[g.id] = true
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
			if g.body2.Data[k] != v {
				t.Errorf("%s: data %v, want %v", st, g.body2.Data, want)
			}
		}
	}
	waitStats(t, e.sim, len(all), 0) // counted once the answer is read

	// The same secret, with anything changed, fails verification.
	g := forMachine(got, m.ID, "started")[0]
	sig := g.header.Get("X-Signature")
	if sig != strings.ToLower(sig) || len(sig) != 64 {
		t.Errorf("X-Signature %q is not lowercase hex", sig)
	}
	for _, msg := range [][]byte{
		EventSigningMessage(g.id, "io.fly.machine.stopped", g.source, g.ctime, g.body),
		EventSigningMessage(g.id, g.typ, g.source, g.ctime, append([]byte(nil), append(g.body, ' ')...)),
		EventSigningMessage("other", g.typ, g.source, g.ctime, g.body),
	} {
		if signing.Valid([][]byte{[]byte(testEventsSecret)}, msg, sig) {
			t.Errorf("signature also verifies %q", msg)
		}
	}

	// Destroying sends destroying and destroyed.
	if err := e.c.Destroy(e.ctx, "evapp", fly.RemoveMachineInput{ID: m.ID}, ""); err != nil {
		t.Fatal(err)
	}
	rc.waitFor("destroy events", hasAll(m.ID, "destroying", "destroyed"))
}

func TestEventSigningMessage(t *testing.T) {
	t.Parallel()
	got := string(EventSigningMessage("id1", "io.fly.machine.started", "/apps/a/machines/m", "2024-01-02T03:04:05.5Z", []byte(`{"x":1}`)))
	want := "id1\nio.fly.machine.started\n/apps/a/machines/m\n2024-01-02T03:04:05.5Z\n{\"x\":1}"
	if got != want {
		t.Fatalf("EventSigningMessage = %q, want %q", got, want)
	}
}

func TestEventsFailedCarriesError(t *testing.T) {
	t.Parallel()
	rc := newEventReceiver(t, nil)
	e := newEnv(t, Options{EventsURL: rc.url(), EventsSecret: testEventsSecret, Faults: Faults{Seed: 5, CrashRate: 1}})
	e.createApp("crashy")
	m := e.launch("crashy", launchInput("ams", nil))
	got := rc.waitFor("a failed event", hasAll(m.ID, "failed"))
	g := forMachine(got, m.ID, "failed")[0]
	checkEvent(t, g, "crashy", true)
	reason, _ := g.body2.Data["Error"].(string)
	if !strings.Contains(reason, "exit") && !strings.Contains(reason, "out of memory") {
		t.Errorf("failed data %v has no reason", g.body2.Data)
	}
	if tr, _ := g.body2.Data["Transition"].(string); tr == "" {
		t.Errorf("failed data %v has no Transition", g.body2.Data)
	}
	if len(g.body2.Data) != 2 {
		t.Errorf("failed data %v: want just Error and Transition, as in Fly's sample", g.body2.Data)
	}
}

// skipLaunch creates a machine that stays "created": exactly one event.
func skipLaunch(e *env, app string) *fly.Machine {
	e.t.Helper()
	in := launchInput("ams", nil)
	in.SkipLaunch = true
	return e.launch(app, in)
}

func TestEventsRetry(t *testing.T) {
	t.Parallel()
	rc := newEventReceiver(t, func(n int, _ *http.Request) int {
		if n <= 2 {
			return http.StatusServiceUnavailable
		}
		return http.StatusOK
	})
	e := newEnv(t, Options{EventsURL: rc.url(), EventsSecret: testEventsSecret})
	e.createApp("retry")
	m := skipLaunch(e, "retry")
	got := rc.waitFor("three tries", func(evs []gotEvent) bool { return len(evs) >= 3 })
	for _, g := range got {
		checkEvent(t, g, "retry", true)
		if g.id != got[0].id || string(g.body) != string(got[0].body) || g.body2.MachineID != m.ID {
			t.Errorf("retry differs: %s %s vs %s %s", g.id, g.body, got[0].id, got[0].body)
		}
	}
	waitStats(t, e.sim, 1, 0)
	if st := e.sim.EventsStatus(); st.Retries != 2 || !st.Signed || st.URL != rc.url() {
		t.Errorf("EventsStatus = %+v", st)
	}
}

func TestEventsGiveUp(t *testing.T) {
	t.Parallel()
	rc := newEventReceiver(t, func(int, *http.Request) int { return http.StatusBadGateway })
	e := newEnv(t, Options{EventsURL: rc.url(), EventsSecret: testEventsSecret})
	e.createApp("down")
	start := time.Now()
	skipLaunch(e, "down")
	waitStats(t, e.sim, 0, 1)
	if n := len(rc.all()); n != eventAttempts {
		t.Errorf("%d tries, want %d", n, eventAttempts)
	}
	if d := time.Since(start); d < eventBackoff[0]+eventBackoff[1] {
		t.Errorf("gave up after %s: no backoff", d)
	}
	if st := e.sim.EventsStatus(); !strings.Contains(st.LastError, "502") {
		t.Errorf("last error %q", st.LastError)
	}

	// A 4xx other than 408/425/429 is final: the provider refused the event.
	rc2 := newEventReceiver(t, func(int, *http.Request) int { return http.StatusUnauthorized })
	e.sim.SetEventsURL(rc2.url(), "")
	skipLaunch(e, "down")
	waitStats(t, e.sim, 0, 2)
	time.Sleep(eventBackoff[0] + 100*time.Millisecond)
	if got := rc2.all(); len(got) != 1 {
		t.Errorf("%d tries of an event refused with 401, want 1", len(got))
	} else if sig := got[0].header.Get("X-Signature"); sig != "" {
		t.Errorf("event sent without a secret has X-Signature %q", sig)
	}
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

func TestEventsCloseStopsSenders(t *testing.T) {
	t.Parallel()
	aborted := make(chan struct{}, 4)
	release := make(chan struct{})
	defer close(release)
	rc := newEventReceiver(t, func(_ int, r *http.Request) int {
		select { // hold the sender until it gives up
		case <-r.Context().Done():
			aborted <- struct{}{}
		case <-release:
		}
		return http.StatusOK
	})
	e := newEnv(t, Options{EventsURL: rc.url()}) // its cleanup closes again: a no-op
	sim := e.sim
	e.createApp("closing")
	for range 3 { // 3 events, 2 senders: one stays queued
		skipLaunch(e, "closing")
	}
	rc.waitFor("both senders busy", func(evs []gotEvent) bool { return len(evs) >= 2 })

	done := make(chan struct{})
	go func() { sim.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(3 * time.Second):
		t.Fatal("Close did not return while the provider hung")
	}
	for range 2 {
		select {
		case <-aborted:
		case <-time.After(3 * time.Second):
			t.Fatal("Close did not abort a POST under way")
		}
	}
	if sent, failed := sim.EventStats(); sent != 0 || failed != 3 {
		t.Errorf("after Close: %d sent, %d failed; want 0, 3", sent, failed)
	}
	// Nothing is sent after Close, even if state changes were to happen.
	sim.SetEventsURL(rc.url(), "")
	sim.mu.Lock()
	for _, m := range sim.machines {
		sim.emitMachineEventLocked(m)
	}
	sim.mu.Unlock()
	time.Sleep(100 * time.Millisecond)
	if n := len(rc.all()); n != 2 {
		t.Errorf("%d requests after Close, want the 2 from before", n)
	}
}

func TestNoEventsWithoutURL(t *testing.T) {
	t.Parallel()
	rc := newEventReceiver(t, nil)
	e := newEnv(t, Options{EventsSecret: testEventsSecret})
	e.createApp("quiet")
	m := e.started("quiet")
	time.Sleep(100 * time.Millisecond)
	if n := len(rc.all()); n != 0 {
		t.Fatalf("%d events without an EventsURL", n)
	}
	if sent, failed := e.sim.EventStats(); sent != 0 || failed != 0 {
		t.Fatalf("EventStats = %d, %d", sent, failed)
	}
	e.sim.events.mu.Lock()
	lazy := e.sim.events.queue == nil
	e.sim.events.mu.Unlock()
	if !lazy {
		t.Error("senders started without an EventsURL")
	}

	// Switched on at runtime (over HTTP), events flow; switched off, they stop.
	code, body := rawDo(t, e, "PUT", "/flysim/v1/events", `{"url":"`+rc.url()+`","secret":"`+testEventsSecret+`"}`, testToken)
	if code != http.StatusOK || !strings.Contains(string(body), `"signed":true`) || strings.Contains(string(body), testEventsSecret) {
		t.Fatalf("PUT events = %d %s", code, body)
	}
	if err := e.c.Stop(e.ctx, "quiet", fly.StopMachineInput{ID: m.ID}, ""); err != nil {
		t.Fatal(err)
	}
	e.wait("quiet", m, "stopped")
	got := rc.waitFor("stop events", hasAll(m.ID, "stopping", "stopped"))
	for _, g := range got {
		checkEvent(t, g, "quiet", true)
	}
	e.sim.SetEventsURL("", "")
	n := len(rc.all())
	if _, err := e.c.Start(e.ctx, "quiet", m.ID, ""); err != nil {
		t.Fatal(err)
	}
	e.wait("quiet", m, "started")
	time.Sleep(100 * time.Millisecond)
	if got := len(rc.all()); got != n {
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
	e := newEnv(t, Options{EventsURL: rc.url(), EventsSecret: testEventsSecret, Faults: Faults{Seed: 9, DuplicateEventRate: 1}})
	e.createApp("dups")
	m := skipLaunch(e, "dups")
	got := rc.waitFor("the event twice", func(evs []gotEvent) bool { return len(evs) >= 2 })
	if got[0].id != got[1].id || got[0].body2.MachineID != m.ID || string(got[0].body) != string(got[1].body) {
		t.Errorf("duplicates differ: %s %s / %s %s", got[0].id, got[0].body, got[1].id, got[1].body)
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
