package machines

import (
	"context"
	"net/http"
	"testing"
	"time"

	fly "github.com/superfly/fly-go"
)

func TestLeaseBlocksMutations(t *testing.T) {
	t.Parallel()
	clock := newFakeClock(time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC))
	e := newEnv(t, Options{Now: clock.Now})
	e.createApp("app")
	m := e.started("app")

	ttl := 30
	l, err := e.c.AcquireLease(e.ctx, "app", m.ID, &ttl)
	if err != nil {
		t.Fatal(err)
	}
	if l.Status != "success" || l.Data == nil || l.Data.Nonce == "" || l.Data.Version != m.Version ||
		l.Data.ExpiresAt != clock.Now().Add(30*time.Second).Unix() {
		t.Fatalf("lease = %+v / %+v", l, l.Data)
	}
	nonce := l.Data.Nonce
	held := "lease currently held by " + l.Data.Owner

	// fly-go's AcquireLease retries a held lease (409) with backoff until its
	// context ends, so a second holder just waits; bound it.
	before := e.sim.Requests()["lease_acquire"]
	shortCtx, cancel := context.WithTimeout(e.ctx, 700*time.Millisecond)
	_, err = e.c.AcquireLease(shortCtx, "app", m.ID, &ttl)
	cancel()
	if err == nil {
		t.Fatal("second AcquireLease succeeded while the lease was held")
	}
	if n := e.sim.Requests()["lease_acquire"] - before; n < 2 {
		t.Fatalf("AcquireLease made %d attempts; expected fly-go to retry the 409", n)
	}

	upd := launchInput("", nil)
	upd.ID = m.ID
	// Every mutating call without the nonce is refused with the same body.
	refused := []struct {
		name string
		call func(nonce string) error
	}{
		{"stop", func(n string) error { return e.c.Stop(e.ctx, "app", fly.StopMachineInput{ID: m.ID}, n) }},
		{"suspend", func(n string) error { return e.c.Suspend(e.ctx, "app", m.ID, n) }},
		{"restart", func(n string) error { return e.c.Restart(e.ctx, "app", fly.RestartMachineInput{ID: m.ID}, n) }},
		{"start", func(n string) error { _, err := e.c.Start(e.ctx, "app", m.ID, n); return err }},
		{"update", func(n string) error { _, err := e.c.Update(e.ctx, "app", upd, n); return err }},
		{"destroy", func(n string) error {
			return e.c.Destroy(e.ctx, "app", fly.RemoveMachineInput{ID: m.ID, Kill: true}, n)
		}},
		{"cordon", func(n string) error { return e.c.Cordon(e.ctx, "app", m.ID, n) }},
		{"metadata set", func(string) error { return e.c.SetMetadata(e.ctx, "app", m.ID, "k", "v") }},
		{"metadata delete", func(string) error { return e.c.DeleteMetadata(e.ctx, "app", m.ID, "k") }},
	}
	for _, tc := range refused {
		t.Run(tc.name+" without nonce", func(t *testing.T) {
			wantErr(t, tc.call(""), http.StatusConflict, "aborted: machine ID "+m.ID+" "+held)
		})
		t.Run(tc.name+" with wrong nonce", func(t *testing.T) {
			wantErr(t, tc.call("not-the-nonce"), http.StatusConflict, held)
		})
	}
	if got := e.get("app", m.ID); got.State != "started" || got.Version != m.Version {
		t.Fatalf("refused calls changed the machine: %s %s", got.State, got.Version)
	}

	// With the nonce the holder can act, refresh and release.
	if err := e.c.Stop(e.ctx, "app", fly.StopMachineInput{ID: m.ID}, nonce); err != nil {
		t.Fatal(err)
	}
	found, err := e.c.FindLease(e.ctx, "app", m.ID)
	if err != nil || found.Data.Nonce != nonce {
		t.Fatalf("FindLease = %+v, %v", found, err)
	}
	clock.Advance(20 * time.Second)
	ref, err := e.c.RefreshLease(e.ctx, "app", m.ID, &ttl, nonce)
	if err != nil || ref.Data.Nonce != nonce || ref.Data.ExpiresAt != clock.Now().Add(30*time.Second).Unix() {
		t.Fatalf("RefreshLease = %+v, %v", ref, err)
	}
	wantErr(t, e.c.ReleaseLease(e.ctx, "app", m.ID, "wrong"), http.StatusConflict, held)
	if err := e.c.ReleaseLease(e.ctx, "app", m.ID, nonce); err != nil {
		t.Fatal(err)
	}
	_, err = e.c.FindLease(e.ctx, "app", m.ID)
	wantErr(t, err, http.StatusNotFound, "lease not found")
	e.wait("app", m, "stopped")
	if _, err := e.c.Start(e.ctx, "app", m.ID, ""); err != nil {
		t.Fatalf("start after release: %v", err)
	}
}

func TestLeaseExpiresAndLaunchLease(t *testing.T) {
	t.Parallel()
	clock := newFakeClock(time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC))
	e := newEnv(t, Options{Now: clock.Now})
	e.createApp("app")

	in := launchInput("ams", nil)
	in.LeaseTTL = 10
	m := e.launch("app", in)
	if m.LeaseNonce == "" {
		t.Fatal("lease_ttl on create returned no nonce")
	}
	if again := e.get("app", m.ID); again.LeaseNonce != "" {
		t.Fatal("nonce leaked into GET")
	}
	e.wait("app", m, "started") // waiting is not a mutation

	wantErr(t, e.c.Cordon(e.ctx, "app", m.ID, ""), http.StatusConflict, "lease currently held by")
	if err := e.c.Cordon(e.ctx, "app", m.ID, m.LeaseNonce); err != nil {
		t.Fatal(err)
	}

	clock.Advance(11 * time.Second)
	if err := e.c.Uncordon(e.ctx, "app", m.ID, ""); err != nil {
		t.Fatalf("expired lease still enforced: %v", err)
	}
}
