package machines

import (
	"errors"
	"net/http"
	"testing"

	fly "github.com/superfly/fly-go"
	"github.com/superfly/fly-go/flaps"
)

// A lost answer leaves the change made and the caller without a reply: no
// HTTP status, and fly-go does not retry it behind the caller's back.
func TestLostResponse(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	e.createApp("app")
	doomed := e.started("app")
	e.createApp("doomed")
	lose := func() { e.sim.SetFaults(Faults{Seed: 1, LostResponseRate: 1}) }
	keep := func() { e.sim.SetFaults(Faults{}) }

	tests := []struct {
		name   string
		action string
		call   func() error
		check  func(t *testing.T) // the change happened
	}{
		{"machine create", "machine_create", func() error {
			_, err := e.c.Launch(e.ctx, "app", launchInput("ams", map[string]string{"jetway_attempt": "a1"}))
			return err
		}, func(t *testing.T) {
			// The documented recovery: look the machine up by its tag.
			ms, err := e.c.List(e.ctx, "app", "metadata.jetway_attempt=a1")
			if err != nil || len(ms) != 1 {
				t.Fatalf("metadata lookup after a lost create = %d machines, %v; want exactly 1", len(ms), err)
			}
			e.wait("app", ms[0], "started")
		}},
		{"machine destroy", "machine_destroy", func() error {
			return e.c.Destroy(e.ctx, "app", fly.RemoveMachineInput{ID: doomed.ID, Kill: true}, "")
		}, func(t *testing.T) { e.wait("app", doomed, "destroyed") }},
		{"app create", "app_create", func() error {
			_, err := e.c.CreateApp(e.ctx, flaps.CreateAppRequest{Name: "lost-app", Org: testOrg})
			return err
		}, func(t *testing.T) {
			if _, err := e.c.GetApp(e.ctx, "lost-app"); err != nil {
				t.Fatalf("app from a lost create: %v", err)
			}
		}},
		{"app delete", "app_delete", func() error { return e.c.DeleteApp(e.ctx, "doomed") }, func(t *testing.T) {
			_, err := e.c.GetApp(e.ctx, "doomed")
			wantErr(t, err, http.StatusNotFound, "app not found")
		}},
		{"ip assign", "ip_assignment_create", func() error {
			_, err := e.c.AssignIP(e.ctx, "app", flaps.AssignIPRequest{Type: "private_v6"})
			return err
		}, func(t *testing.T) {
			if ips, err := e.c.GetIPAssignments(e.ctx, "app"); err != nil || len(ips.IPs) != 1 {
				t.Fatalf("IPs after a lost assign = %+v, %v", ips, err)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := e.sim.Stats()
			lose()
			err := tc.call()
			keep()
			var fe *flaps.FlapsError
			if err == nil || errors.As(err, &fe) {
				t.Fatalf("want a connection error without a response, got %v", err)
			}
			after := e.sim.Stats()
			if n := after.Requests[tc.action] - before.Requests[tc.action]; n != 1 {
				t.Fatalf("%d %s requests; fly-go must not have retried", n, tc.action)
			}
			if n := after.Injected["lost_response"] - before.Injected["lost_response"]; n != 1 {
				t.Fatalf("lost_response count went up by %d", n)
			}
			tc.check(t)
		})
	}

	// Only a success can be lost: a refused call is answered as usual.
	lose()
	_, err := e.c.Launch(e.ctx, "app", launchInput("nowhere", nil))
	wantErr(t, err, http.StatusBadRequest, "region")
}
