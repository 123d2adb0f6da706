package machines

import (
	"errors"
	"fmt"
	"net/http"
	"testing"

	fly "github.com/superfly/fly-go"
	"github.com/superfly/fly-go/flaps"
)

// capacityBodies are the answers Fly gives for capacity, by status code.
func capacityBodies(action, region string) map[int]string {
	out := map[int]string{
		http.StatusForbidden:  fmt.Sprintf(`{"error":"organization %s is using 4096 MB of memory in %s which is over the allowed quota"}`, testOrg, region),
		http.StatusBadRequest: `{"error":"no capacity","status":"insufficient_capacity"}`,
	}
	if action == "machine_create" {
		out[http.StatusPreconditionFailed] = `{"error":"insufficient resources to create new machine with existing volume"}`
	} else {
		out[http.StatusConflict] = `{"error":"aborted: could not reserve resource for machine: insufficient memory available to fulfill request"}`
	}
	return out
}

func TestCapacityReplies(t *testing.T) {
	for _, action := range []string{"machine_create", "machine_update", "machine_start"} {
		want := capacityBodies(action, "ams")
		seen := map[int]bool{}
		for pick := range 3 {
			rp := capacityReply(action, testOrg, "ams", pick)
			if want[rp.Code] != string(rp.Body) {
				t.Errorf("%s pick %d: %d %s, want one of %v", action, pick, rp.Code, rp.Body, want)
			}
			seen[rp.Code] = true
		}
		if len(seen) != len(want) {
			t.Errorf("%s: codes %v, want all of %v", action, seen, want)
		}
	}
}

// wantCapacityErr checks that fly-go surfaced a capacity error as Fly sends
// it: the status code and the body, which is all that tells it apart.
func wantCapacityErr(t *testing.T, err error, action, region string) {
	t.Helper()
	var fe *flaps.FlapsError
	if !errors.As(err, &fe) {
		t.Fatalf("want a FlapsError, got %v", err)
	}
	want, ok := capacityBodies(action, region)[fe.ResponseStatusCode]
	if !ok || string(fe.ResponseBody) != want {
		t.Fatalf("%s: %d %s is not a capacity error Fly sends", action, fe.ResponseStatusCode, fe.ResponseBody)
	}
	if fe.ResponseStatusCode == http.StatusBadRequest {
		if sc := flaps.GetErrorStatusCode(err); sc == nil || *sc != "insufficient_capacity" {
			t.Fatalf("status code = %v, want insufficient_capacity", sc)
		}
	}
}

func TestCapacityErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	e.createApp("app")
	running := e.started("app")
	stopped := e.started("app")
	if err := e.c.Stop(e.ctx, "app", fly.StopMachineInput{ID: stopped.ID}, ""); err != nil {
		t.Fatal(err)
	}
	e.wait("app", stopped, "stopped")
	e.sim.SetFaults(Faults{Seed: 7, CapacityErrorRate: 1})

	for range 3 {
		_, err := e.c.Launch(e.ctx, "app", launchInput("fra", nil))
		wantCapacityErr(t, err, "machine_create", "fra")
	}
	upd := launchInput("", map[string]string{"v": "2"})
	upd.ID = running.ID
	_, err := e.c.Update(e.ctx, "app", upd, "")
	wantCapacityErr(t, err, "machine_update", "ams")
	_, err = e.c.Start(e.ctx, "app", stopped.ID, "")
	wantCapacityErr(t, err, "machine_start", "ams")

	// Nothing was acted on.
	if ms := e.sim.Machines("app"); len(ms) != 2 {
		t.Fatalf("%d machines, want the 2 from before", len(ms))
	}
	if got := e.get("app", running.ID); got.Version != running.Version || got.State != "started" {
		t.Fatalf("refused update changed the machine: %s %s", got.Version, got.State)
	}
	if got := e.get("app", stopped.ID); got.State != "stopped" {
		t.Fatalf("refused start changed the machine: %s", got.State)
	}
	if n := e.sim.Stats().Injected["capacity"]; n != 5 {
		t.Fatalf("capacity count = %d, want 5", n)
	}

	// Validation comes first: a bad request is a bad request, full or not.
	_, err = e.c.Launch(e.ctx, "app", launchInput("nowhere", nil))
	wantErr(t, err, http.StatusBadRequest, "unknown region")
}
