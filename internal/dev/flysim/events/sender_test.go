package events

import (
	"net/http"
	"strings"
	"testing"
	"time"

	fly "github.com/superfly/fly-go"

	"github.com/jetway-dev/jetway/internal/dev/flysim/internal/flysimtest"
)

const testEventsSecret = "events-secret"

func newEventReceiver(t *testing.T, answer func(n int, r *http.Request) int) *flysimtest.EventReceiver {
	t.Helper()
	return flysimtest.NewEventReceiver(t, testEventsSecret, answer)
}

func newSender(t *testing.T, url, secret string) *Sender {
	t.Helper()
	s := New(url, secret)
	t.Cleanup(s.Close) // a second Close is a no-op
	return s
}

// created is the change of a machine created with skip_launch: it stays
// "created", so exactly one event.
func created(app, id string) Change {
	return Change{App: app, MachineID: id, State: "created", At: time.Now(),
		Cause: fly.MachineEvent{Type: "launch", Status: "created", Source: "user"}}
}

func waitStats(t *testing.T, s *Sender, sent, failed int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		gs, gf := s.Stats()
		if gs == sent && gf == failed {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("Stats = %d sent, %d failed; want %d, %d", gs, gf, sent, failed)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestSigningMessage(t *testing.T) {
	t.Parallel()
	got := string(SigningMessage("id1", "io.fly.machine.started", "/apps/a/machines/m", "2024-01-02T03:04:05.5Z", []byte(`{"x":1}`)))
	want := "id1\nio.fly.machine.started\n/apps/a/machines/m\n2024-01-02T03:04:05.5Z\n{\"x\":1}"
	if got != want {
		t.Fatalf("SigningMessage = %q, want %q", got, want)
	}
}

func TestData(t *testing.T) {
	t.Parallel()
	exit := func(e fly.MachineExitEvent) *fly.MachineRequest { return &fly.MachineRequest{ExitEvent: &e} }
	for _, tc := range []struct {
		name string
		c    Change
		want map[string]any
	}{
		{"started by flyd", Change{State: "started", Cause: fly.MachineEvent{Type: "start", Source: "flyd"}},
			map[string]any{"event": "start", "source": "flyd"}},
		{"stopped by the proxy", Change{State: "stopping", Cause: fly.MachineEvent{Type: "stop", Source: "fly-proxy"}},
			map[string]any{"event": "stop", "source": "fly-proxy"}},
		{"out of memory", Change{State: "failed", Cause: fly.MachineEvent{Type: "exit", Request: exit(fly.MachineExitEvent{ExitCode: 137, Signal: 9, OOMKilled: true})}},
			map[string]any{"Error": "process was killed: out of memory (exit code 137)", "Transition": crashTransition}},
		{"segfault", Change{State: "failed", Cause: fly.MachineEvent{Type: "exit", Request: exit(fly.MachineExitEvent{ExitCode: 139, Signal: 11})}},
			map[string]any{"Error": "process exited with code 139 (signal 11)", "Transition": crashTransition}},
		{"failed, no exit", Change{State: "failed"}, map[string]any{"Error": "machine failed", "Transition": crashTransition}},
	} {
		got := data(tc.c)
		if len(got) != len(tc.want) {
			t.Errorf("%s: data %v, want %v", tc.name, got, tc.want)
			continue
		}
		for k, v := range tc.want {
			if got[k] != v {
				t.Errorf("%s: data %v, want %v", tc.name, got, tc.want)
			}
		}
	}
}

func TestEventsRetry(t *testing.T) {
	t.Parallel()
	rc := newEventReceiver(t, func(n int, _ *http.Request) int {
		if n <= 2 {
			return http.StatusServiceUnavailable
		}
		return http.StatusOK
	})
	s := newSender(t, rc.URL(), testEventsSecret)
	s.Send(created("retry", "m1"))
	got := rc.WaitFor("three tries", func(evs []flysimtest.Event) bool { return len(evs) >= 3 })
	for _, g := range got {
		flysimtest.CheckEvent(t, g, "retry", true)
		if g.ID != got[0].ID || string(g.Body) != string(got[0].Body) || g.Parsed.MachineID != "m1" {
			t.Errorf("retry differs: %s %s vs %s %s", g.ID, g.Body, got[0].ID, got[0].Body)
		}
	}
	waitStats(t, s, 1, 0)
	if st := s.Status(); st.Retries != 2 || !st.Signed || st.URL != rc.URL() {
		t.Errorf("Status = %+v", st)
	}
}

func TestEventsGiveUp(t *testing.T) {
	t.Parallel()
	rc := newEventReceiver(t, func(int, *http.Request) int { return http.StatusBadGateway })
	s := newSender(t, rc.URL(), testEventsSecret)
	start := time.Now()
	s.Send(created("down", "m1"))
	waitStats(t, s, 0, 1)
	if n := len(rc.All()); n != attempts {
		t.Errorf("%d tries, want %d", n, attempts)
	}
	if d := time.Since(start); d < backoff[0]+backoff[1] {
		t.Errorf("gave up after %s: no backoff", d)
	}
	if st := s.Status(); !strings.Contains(st.LastError, "502") {
		t.Errorf("last error %q", st.LastError)
	}

	// A 4xx other than 408/425/429 is final: the provider refused the event.
	rc2 := newEventReceiver(t, func(int, *http.Request) int { return http.StatusUnauthorized })
	s.SetURL(rc2.URL(), "")
	s.Send(created("down", "m2"))
	waitStats(t, s, 0, 2)
	time.Sleep(backoff[0] + 100*time.Millisecond)
	if got := rc2.All(); len(got) != 1 {
		t.Errorf("%d tries of an event refused with 401, want 1", len(got))
	} else if sig := got[0].Header.Get("X-Signature"); sig != "" {
		t.Errorf("event sent without a secret has X-Signature %q", sig)
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
	s := newSender(t, rc.URL(), "")
	for i := range 3 { // 3 events, 2 senders: one stays queued
		s.Send(created("closing", string(rune('a'+i))))
	}
	rc.WaitFor("both senders busy", func(evs []flysimtest.Event) bool { return len(evs) >= 2 })

	done := make(chan struct{})
	go func() { s.Close(); close(done) }()
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
	if sent, failed := s.Stats(); sent != 0 || failed != 3 {
		t.Errorf("after Close: %d sent, %d failed; want 0, 3", sent, failed)
	}
	// Nothing is sent after Close, even if state changes were to happen.
	s.SetURL(rc.URL(), "")
	for i := range 3 {
		s.Send(created("closing", string(rune('a'+i))))
	}
	time.Sleep(100 * time.Millisecond)
	if n := len(rc.All()); n != 2 {
		t.Errorf("%d requests after Close, want the 2 from before", n)
	}
}

// No URL, no senders: changes without an EventsURL cost nothing.
func TestNoSendersWithoutURL(t *testing.T) {
	t.Parallel()
	s := newSender(t, "", testEventsSecret)
	for i := range 3 {
		s.Send(created("quiet", string(rune('a'+i))))
	}
	if sent, failed := s.Stats(); sent != 0 || failed != 0 {
		t.Fatalf("Stats = %d, %d", sent, failed)
	}
	s.mu.Lock()
	lazy := s.queue == nil
	s.mu.Unlock()
	if !lazy {
		t.Error("senders started without a URL")
	}
}
