package machines

import (
	"errors"
	"net/http"
	"testing"

	fly "github.com/superfly/fly-go"
	"github.com/superfly/fly-go/flaps"
)

// mounting is a machine in region mounting volume at /data.
func mounting(volume, region string) fly.LaunchMachineInput {
	in := launchInput(region, nil)
	in.Config.Mounts = []fly.MachineMount{{Volume: volume, Path: "/data"}}
	return in
}

func attachedTo(v *fly.Volume) string {
	if v.AttachedMachine == nil {
		return ""
	}
	return *v.AttachedMachine
}

func TestMountRefusals(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	e.createApp("app")
	e.createApp("other")
	ams := e.createVolume("app", volumeRequest("data", "ams", 1))
	foreign := e.createVolume("other", volumeRequest("data", "ams", 1))
	holder := e.launch("app", mounting(ams.ID, "ams"))

	twoMounts := mounting(ams.ID, "ams")
	twoMounts.Config.Mounts = append(twoMounts.Config.Mounts, fly.MachineMount{Volume: ams.ID, Path: "/more"})
	relative := mounting(ams.ID, "ams")
	relative.Config.Mounts[0].Path = "data"
	tests := []struct {
		name string
		in   fly.LaunchMachineInput
		code int
		msg  string
	}{
		{"unknown volume", mounting("vol_0000000000000000", "ams"), http.StatusBadRequest, `volume "vol_0000000000000000" not found`},
		{"another app's volume", mounting(foreign.ID, "ams"), http.StatusBadRequest, "not found"},
		{"no volume id", mounting("", "ams"), http.StatusBadRequest, "mounts[0].volume is required"},
		{"relative path", relative, http.StatusBadRequest, "absolute path"},
		{"two mounts", twoMounts, http.StatusBadRequest, "only one volume"},
		{"other region", mounting(ams.ID, "fra"), http.StatusBadRequest, "in region ams, the machine in fra"},
		{"already attached", mounting(ams.ID, "ams"), http.StatusPreconditionFailed,
			"failed_precondition: volume is currently bound to machine: " + holder.ID},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.c.Launch(e.ctx, "app", tc.in)
			wantErr(t, err, tc.code, tc.msg)
		})
	}
	if n := len(e.sim.Machines("app")); n != 1 {
		t.Fatalf("%d machines, want only the holder", n)
	}
	if got := e.getVolume("app", ams.ID); attachedTo(got) != holder.ID {
		t.Fatalf("attached_machine_id = %q, want %s", attachedTo(got), holder.ID)
	}
}

// A volume is bound to its machine until the machine is destroyed:
// stopping it is not enough to delete the volume, destroying it is.
func TestVolumeBoundUntilMachineDestroyed(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	e.createApp("app")
	v := e.createVolume("app", volumeRequest("data", "ams", 1))
	m := e.launch("app", mounting(v.ID, "ams"))
	e.wait("app", m, "started")

	_, restart, err := e.c.ExtendVolume(e.ctx, "app", v.ID, 2)
	if err != nil || !restart {
		t.Fatalf("extending a started machine's volume: restart %v, %v; want needs_restart", restart, err)
	}
	if err := e.c.Stop(e.ctx, "app", fly.StopMachineInput{ID: m.ID}, ""); err != nil {
		t.Fatal(err)
	}
	e.wait("app", m, "stopped")
	if _, restart, err := e.c.ExtendVolume(e.ctx, "app", v.ID, 3); err != nil || restart {
		t.Fatalf("extending a stopped machine's volume: restart %v, %v; want none", restart, err)
	}
	_, err = e.c.DeleteVolume(e.ctx, "app", v.ID)
	wantErr(t, err, http.StatusPreconditionFailed, "failed_precondition: volume is currently bound to machine: "+m.ID)

	if err := e.c.Destroy(e.ctx, "app", fly.RemoveMachineInput{ID: m.ID}, ""); err != nil {
		t.Fatal(err)
	}
	e.wait("app", m, "destroyed")
	if got := e.getVolume("app", v.ID); got.IsAttached() {
		t.Fatalf("volume still attached to %s after its machine was destroyed", attachedTo(got))
	}
	if info := e.sim.AllVolumes(); info[0].AttachedMachine != "" {
		t.Fatalf("AllVolumes still shows %s attached", info[0].AttachedMachine)
	}
	// Free again: another machine may mount it, and then it is bound to that one.
	next := e.launch("app", mounting(v.ID, "ams"))
	if got := e.getVolume("app", v.ID); attachedTo(got) != next.ID {
		t.Fatalf("attached_machine_id = %q, want %s", attachedTo(got), next.ID)
	}
}

// An update may attach a volume or swap it for another, under the same
// rules as a create.
func TestUpdateMovesMounts(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	e.createApp("app")
	first := e.createVolume("app", volumeRequest("data", "ams", 1))
	second := e.createVolume("app", volumeRequest("data", "ams", 1))
	fra := e.createVolume("app", volumeRequest("data", "fra", 1))
	m := e.started("app")
	other := e.started("app")

	update := func(id, volume string) error {
		in := mounting(volume, "")
		in.ID = id
		_, err := e.c.Update(e.ctx, "app", in, "")
		return err
	}
	if err := update(m.ID, first.ID); err != nil {
		t.Fatalf("attach on update: %v", err)
	}
	e.wait("app", e.get("app", m.ID), "started")
	if got := e.getVolume("app", first.ID); attachedTo(got) != m.ID {
		t.Fatalf("first volume attached to %q, want %s", attachedTo(got), m.ID)
	}
	wantErr(t, update(other.ID, first.ID), http.StatusPreconditionFailed, "bound to machine: "+m.ID)
	wantErr(t, update(other.ID, fra.ID), http.StatusBadRequest, "in region fra, the machine in ams")

	if err := update(m.ID, second.ID); err != nil {
		t.Fatalf("swap on update: %v", err)
	}
	if got := e.getVolume("app", first.ID); got.IsAttached() {
		t.Fatalf("first volume still attached to %q after the swap", attachedTo(got))
	}
	if got := e.getVolume("app", second.ID); attachedTo(got) != m.ID {
		t.Fatalf("second volume attached to %q, want %s", attachedTo(got), m.ID)
	}
}

// A full region refuses new volumes with Fly's 400, and machines created
// with an existing volume there with Fly's 412; nothing else.
func TestVolumeCapacity(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	e.createApp("app")
	v := e.createVolume("app", volumeRequest("data", "ams", 1))
	if err := e.sim.SetVolumeCapacity("ams", false); err != nil {
		t.Fatal(err)
	}
	if err := e.sim.SetVolumeCapacity("xyz", false); err == nil {
		t.Fatal("SetVolumeCapacity accepted an unknown region")
	}

	_, err := e.c.CreateVolume(e.ctx, "app", volumeRequest("data", "ams", 1))
	wantBody(t, err, http.StatusBadRequest, `{"error":"no capacity"}`)
	_, err = e.c.Launch(e.ctx, "app", mounting(v.ID, "ams"))
	wantBody(t, err, http.StatusPreconditionFailed, `{"error":"insufficient resources to create new machine with existing volume"}`)
	if got := e.sim.Stats().Injected[faultCapacity]; got != 2 {
		t.Fatalf("capacity faults counted %d, want 2", got)
	}

	e.createVolume("app", volumeRequest("data", "fra", 1))
	e.launch("app", launchInput("ams", nil)) // no volume: unaffected

	if err := e.sim.SetVolumeCapacity("ams", true); err != nil {
		t.Fatal(err)
	}
	m := e.launch("app", mounting(v.ID, "ams"))
	if got := e.getVolume("app", v.ID); attachedTo(got) != m.ID {
		t.Fatalf("volume attached to %q after capacity came back", attachedTo(got))
	}
}

func TestVolumeCapacityFaults(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{Faults: Faults{Seed: 3, CapacityErrorRate: 1}})
	e.createApp("app")
	for range 3 {
		_, err := e.c.CreateVolume(e.ctx, "app", volumeRequest("data", "ams", 1))
		wantBody(t, err, http.StatusBadRequest, `{"error":"no capacity"}`)
	}
	if n := len(e.sim.AllVolumes()); n != 0 {
		t.Fatalf("%d volumes created despite the capacity errors", n)
	}
}

// With require_unique_zone (the default), an app's volumes of one name go
// to separate zones until the region has none left.
func TestUniqueZones(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	e.createApp("app")
	zones := map[string]bool{}
	for range zonesPerRegion {
		zones[e.createVolume("app", volumeRequest("db", "ams", 1)).Zone] = true
	}
	if len(zones) != zonesPerRegion {
		t.Fatalf("%d volumes of one name share zones: %v", zonesPerRegion, zones)
	}
	_, err := e.c.CreateVolume(e.ctx, "app", volumeRequest("db", "ams", 1))
	wantBody(t, err, http.StatusBadRequest, `{"error":"no capacity"}`)

	e.createVolume("app", volumeRequest("other", "ams", 1)) // another name: zones of its own
	shared := volumeRequest("db", "ams", 1)
	no := false
	shared.RequireUniqueZone = &no
	e.createVolume("app", shared)
}

func wantBody(t *testing.T, err error, code int, body string) {
	t.Helper()
	wantErr(t, err, code, "")
	var fe *flaps.FlapsError
	if !errors.As(err, &fe) || string(fe.ResponseBody) != body {
		t.Fatalf("body of %v is not %s", err, body)
	}
}
