package flysimtest

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

	"github.com/jetway-dev/jetway/internal/dev/flysign"
)

// EventBody is the JSON body of a machine event, as the events contract
// (flysim/events) promises it; written out here rather than imported, so a
// change to the sender's type does not quietly change what is expected.
type EventBody struct {
	MachineID string         `json:"machine_id"`
	AppName   string         `json:"app_name"`
	Status    string         `json:"status"`
	Data      map[string]any `json:"data"`
}

// Event is one POST the receiver got, parsed both by hand and by the
// CloudEvents SDK.
type Event struct {
	Header   http.Header
	Body     []byte
	ID, Type string
	Source   string
	Time     string
	SignedOK bool // X-Signature verified under the receiver's secret
	Parsed   EventBody
	SDKErr   error // from cehttp.NewEventFromHTTPRequest
	SDKSpec  string
	SDKTime  time.Time
	SDKData  []byte
	SDKCType string
}

// EventReceiver is a provider's events endpoint. answer decides the status
// of the n-th request (1-based); nil answers 204.
type EventReceiver struct {
	t      testing.TB
	srv    *httptest.Server
	secret string
	answer func(n int, r *http.Request) int

	mu     sync.Mutex
	n      int
	got    []Event // every request, in arrival order
	notify chan struct{}
}

// NewEventReceiver starts a receiver that checks signatures with secret.
func NewEventReceiver(t testing.TB, secret string, answer func(n int, r *http.Request) int) *EventReceiver {
	t.Helper()
	rc := &EventReceiver{t: t, secret: secret, answer: answer, notify: make(chan struct{}, 1)}
	rc.srv = httptest.NewServer(http.HandlerFunc(rc.serve))
	t.Cleanup(rc.srv.Close)
	return rc
}

// URL is where events should be sent.
func (rc *EventReceiver) URL() string { return rc.srv.URL + "/flyio/extensions/events" }

func (rc *EventReceiver) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	g := Event{
		Header: r.Header.Clone(),
		Body:   body,
		ID:     r.Header.Get("ce-id"),
		Type:   r.Header.Get("ce-type"),
		Source: r.Header.Get("ce-source"),
		Time:   r.Header.Get("ce-time"),
	}
	g.SignedOK = flysign.Valid([]byte(rc.secret),
		flysign.EventMessage(g.ID, g.Type, g.Source, g.Time, body), r.Header.Get("X-Signature"))
	_ = json.Unmarshal(body, &g.Parsed)
	// The SDK reads the body itself: give it a fresh copy.
	r2 := r.Clone(r.Context())
	r2.Body = io.NopCloser(strings.NewReader(string(body)))
	if ev, err := cehttp.NewEventFromHTTPRequest(r2); err != nil {
		g.SDKErr = err
	} else {
		g.SDKSpec, g.SDKTime, g.SDKData, g.SDKCType = ev.SpecVersion(), ev.Time(), ev.Data(), ev.DataContentType()
		if err := ev.Validate(); err != nil {
			g.SDKErr = err
		}
		if ev.ID() != g.ID || ev.Type() != g.Type || ev.Source() != g.Source {
			g.SDKErr = errString("SDK saw id/type/source " + ev.ID() + " " + ev.Type() + " " + ev.Source())
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

// All is every request received so far.
func (rc *EventReceiver) All() []Event {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]Event(nil), rc.got...)
}

// WaitFor waits until cond holds over everything received so far.
func (rc *EventReceiver) WaitFor(what string, cond func([]Event) bool) []Event {
	rc.t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		if got := rc.All(); cond(got) {
			return got
		}
		select {
		case <-rc.notify:
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			rc.t.Fatalf("timed out waiting for %s; got %d events: %v", what, len(rc.All()), Statuses(rc.All()))
		}
	}
}

// Statuses lists the events' machine states.
func Statuses(evs []Event) []string {
	out := make([]string, len(evs))
	for i, g := range evs {
		out[i] = g.Parsed.Status
	}
	return out
}

// ForMachine picks the events about one machine with the given status.
func ForMachine(evs []Event, id, status string) []Event {
	var out []Event
	for _, g := range evs {
		if g.Parsed.MachineID == id && g.Parsed.Status == status {
			out = append(out, g)
		}
	}
	return out
}

// HasAll holds once the machine has an event for each state.
func HasAll(id string, states ...string) func([]Event) bool {
	return func(evs []Event) bool {
		for _, st := range states {
			if len(ForMachine(evs, id, st)) == 0 {
				return false
			}
		}
		return true
	}
}

// CheckEvent holds one received event to the contract.
func CheckEvent(t testing.TB, g Event, app string, signed bool) {
	t.Helper()
	st := g.Parsed.Status
	if g.SDKErr != nil {
		t.Errorf("%s: CloudEvents SDK rejected the event: %v", st, g.SDKErr)
	}
	if g.Header.Get("ce-specversion") != "1.0" || g.SDKSpec != "1.0" {
		t.Errorf("%s: specversion %q (SDK %q)", st, g.Header.Get("ce-specversion"), g.SDKSpec)
	}
	if g.Type != "io.fly.machine."+st {
		t.Errorf("%s: ce-type %q", st, g.Type)
	}
	if want := "/apps/" + app + "/machines/" + g.Parsed.MachineID; g.Source != want {
		t.Errorf("%s: ce-source %q, want %q", st, g.Source, want)
	}
	if len(g.ID) != 36 {
		t.Errorf("%s: ce-id %q is not a UUID", st, g.ID)
	}
	ts, err := time.Parse(time.RFC3339Nano, g.Time)
	if err != nil || ts.Location() != time.UTC || !ts.Equal(g.SDKTime) {
		t.Errorf("%s: ce-time %q (%v), SDK %v", st, g.Time, err, g.SDKTime)
	}
	if g.Header.Get("Content-Type") != "application/json" || g.SDKCType != "application/json" {
		t.Errorf("%s: content type %q (SDK %q)", st, g.Header.Get("Content-Type"), g.SDKCType)
	}
	if string(g.SDKData) != string(g.Body) {
		t.Errorf("%s: SDK data %s differs from body %s", st, g.SDKData, g.Body)
	}
	if g.Parsed.AppName != app || g.Parsed.MachineID == "" || g.Parsed.Data == nil {
		t.Errorf("%s: body %s", st, g.Body)
	}
	if signed != g.SignedOK {
		t.Errorf("%s: signature valid = %v, want %v (X-Signature %q)", st, g.SignedOK, signed, g.Header.Get("X-Signature"))
	}
	for k := range g.Header {
		if strings.HasPrefix(strings.ToLower(k), "ce-") {
			switch strings.ToLower(k) {
			case "ce-specversion", "ce-id", "ce-source", "ce-type", "ce-time":
			default:
				t.Errorf("%s: unexpected header %s", st, k)
			}
		}
	}
}
