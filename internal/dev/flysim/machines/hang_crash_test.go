package machines

import (
	"context"
	"net/http"
	"testing"
	"time"
)

// hungRequests is how many requests a hang fault is holding.
func (s *Server) hungRequests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hung
}

func TestHang(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	e.createApp("app")
	e.sim.SetFaults(Faults{HangRate: 1, HangFor: time.Hour})

	// The client's timeout ends the hang for both sides, for calls with a
	// body too (net/http only notices a hang-up once the body is read).
	for _, call := range []struct {
		name string
		fn   func(ctx context.Context) error
	}{
		{"get", func(ctx context.Context) error { _, err := e.c.GetApp(ctx, "app"); return err }},
		{"create", func(ctx context.Context) error {
			_, err := e.c.Launch(ctx, "app", launchInput("ams", nil))
			return err
		}},
	} {
		t.Run(call.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(e.ctx, 200*time.Millisecond)
			defer cancel()
			start := time.Now()
			// fly-go's retry layer reports it as "request canceled".
			if err := call.fn(ctx); err == nil || ctx.Err() != context.DeadlineExceeded {
				t.Fatalf("want the client to give up at its deadline, got %v (ctx %v)", err, ctx.Err())
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Fatalf("client timeout honoured after %s", d)
			}
			eventually(t, "the hung request to be released", func() bool { return e.sim.hungRequests() == 0 })
		})
	}
	if n := len(e.sim.Machines("app")); n != 0 {
		t.Fatalf("a hung create made %d machines", n)
	}

	// Without a client timeout the hang ends with a 504 after HangFor.
	e.sim.SetFaults(Faults{HangRate: 1, HangFor: 100 * time.Millisecond})
	_, err := e.c.GetApp(e.ctx, "app")
	wantErr(t, err, http.StatusGatewayTimeout, "deadline_exceeded")

	// Close releases hung requests too.
	e.sim.SetFaults(Faults{HangRate: 1, HangFor: time.Hour})
	done := make(chan error, 1)
	go func() { _, err := e.c.GetApp(e.ctx, "app"); done <- err }()
	eventually(t, "a hung request", func() bool { return e.sim.hungRequests() == 1 })
	e.sim.Close()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("hung request succeeded on a closed server")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not release the hung request")
	}
	if n := e.sim.Stats().Injected["hang"]; n != 4 {
		t.Fatalf("hang count = %d, want 4", n)
	}
}

func TestCrash(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{Faults: Faults{Seed: 9, CrashRate: 1}})
	e.createApp("app")
	m := e.started("app")

	eventually(t, "the machine to crash", func() bool {
		ms := e.sim.Machines("app")
		return len(ms) == 1 && ms[0].State == "failed"
	})
	got := e.get("app", m.ID)
	ev := got.Events[0]
	if got.State != "failed" || ev.Type != "exit" || ev.Status != "failed" || ev.Source != "flyd" {
		t.Fatalf("after a crash: state %s, latest event %+v", got.State, ev)
	}
	if ev.Request == nil || ev.Request.ExitEvent == nil {
		t.Fatalf("exit event says nothing about why: %+v", ev)
	}
	if code, err := ev.Request.GetExitCode(); err != nil || code == 0 || ev.Request.ExitEvent.ExitedAt.IsZero() {
		t.Fatalf("exit event = %+v (%v)", ev.Request.ExitEvent, err)
	}
	if n := e.sim.Stats().Injected["crash"]; n != 1 {
		t.Fatalf("crash count = %d", n)
	}

	// A failed machine can be started again; with crashes off it stays up.
	e.sim.SetFaults(Faults{})
	if _, err := e.c.Start(e.ctx, "app", m.ID, ""); err != nil {
		t.Fatal(err)
	}
	e.wait("app", m, "started")
}

// Switching crashes off calls off the ones already scheduled.
func TestCrashCalledOff(t *testing.T) {
	t.Parallel()
	const boot = 200 * time.Millisecond // a crash comes 100–600ms after started
	e := newEnv(t, Options{BootTime: boot, Faults: Faults{CrashRate: 1}})
	e.createApp("app")
	m := e.started("app")
	e.sim.SetFaults(Faults{})
	// Nothing to wait on when the point is that nothing happens: sit out
	// the longest a crash could take.
	time.Sleep(3*boot + 100*time.Millisecond)
	if got := e.get("app", m.ID); got.State != "started" || e.sim.Stats().Injected["crash"] != 0 {
		t.Fatalf("state %s after crashes were switched off", got.State)
	}
}

// TestAbandonedActIsCarriedOut: a create whose caller gave up during a hang
// still lands, when the hang would have ended, and only then; without the
// fault it never does (TestHang).
func TestAbandonedActIsCarriedOut(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	e.createApp("app")
	e.sim.SetFaults(Faults{HangRate: 1, HangFor: 500 * time.Millisecond, AbandonedActRate: 1})
	ctx, cancel := context.WithTimeout(e.ctx, 50*time.Millisecond)
	defer cancel()
	if _, err := e.c.Launch(ctx, "app", launchInput("ams", nil)); err == nil {
		t.Fatal("the hung create answered")
	}
	if n := len(e.sim.Machines("app")); n != 0 {
		t.Fatalf("the abandoned create landed before the hang would have ended: %d machines", n)
	}
	eventually(t, "the abandoned create to land", func() bool { return len(e.sim.Machines("app")) == 1 })
	if n := e.sim.Stats().Injected["abandoned_act"]; n != 1 {
		t.Fatalf("abandoned_act count = %d, want 1", n)
	}
	// Reads are never carried out late: there is nothing to commit.
	ctx2, cancel2 := context.WithTimeout(e.ctx, 50*time.Millisecond)
	defer cancel2()
	_, _ = e.c.GetApp(ctx2, "app")
	time.Sleep(700 * time.Millisecond)
	if n := e.sim.Stats().Injected["abandoned_act"]; n != 1 {
		t.Fatalf("a read was carried out as an abandoned act: count %d", n)
	}
}
