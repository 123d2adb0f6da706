package machines

import (
	"net/http"
	"regexp"
	"testing"

	fly "github.com/superfly/fly-go"
)

var volumeIDRE = regexp.MustCompile(`^vol_[a-z0-9]{16}$`)

func volumeRequest(name, region string, sizeGB int) fly.CreateVolumeRequest {
	return fly.CreateVolumeRequest{Name: name, Region: region, SizeGb: &sizeGB}
}

func (e *env) createVolume(app string, in fly.CreateVolumeRequest) *fly.Volume {
	e.t.Helper()
	v, err := e.c.CreateVolume(e.ctx, app, in)
	if err != nil {
		e.t.Fatalf("CreateVolume(%s): %v", app, err)
	}
	return v
}

func (e *env) getVolume(app, id string) *fly.Volume {
	e.t.Helper()
	v, err := e.c.GetVolume(e.ctx, app, id)
	if err != nil {
		e.t.Fatalf("GetVolume(%s): %v", id, err)
	}
	return v
}

func TestVolumeLifecycle(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	e.createApp("app")

	v := e.createVolume("app", volumeRequest("data", "ams", 10))
	if !volumeIDRE.MatchString(v.ID) {
		t.Errorf("volume id %q is not shaped like Fly's", v.ID)
	}
	if v.State != "created" || v.SizeGb != 10 || v.Region != "ams" || v.Name != "data" || !v.Encrypted ||
		v.Zone == "" || v.SnapshotRetention != 5 || v.IsAttached() || v.CreatedAt.IsZero() {
		t.Fatalf("created volume = %+v", v)
	}
	if got := e.getVolume("app", v.ID); got.ID != v.ID || got.Zone != v.Zone {
		t.Fatalf("GetVolume = %+v, want %+v", got, v)
	}
	if apps := e.sim.Apps(); apps[0].VolumeCount != 1 {
		t.Fatalf("volume_count = %d, want 1", apps[0].VolumeCount)
	}

	grown, restart, err := e.c.ExtendVolume(e.ctx, "app", v.ID, 20)
	if err != nil || grown.SizeGb != 20 || restart {
		t.Fatalf("ExtendVolume = %+v, %v, %v; want 20 GB without restart (nothing mounts it)", grown, restart, err)
	}
	retention := 14
	upd, err := e.c.UpdateVolume(e.ctx, "app", v.ID, fly.UpdateVolumeRequest{SnapshotRetention: &retention})
	if err != nil || upd.SnapshotRetention != 14 || upd.SizeGb != 20 {
		t.Fatalf("UpdateVolume = %+v, %v", upd, err)
	}

	gone, err := e.c.DeleteVolume(e.ctx, "app", v.ID)
	if err != nil || gone.State != "pending_destroy" {
		t.Fatalf("DeleteVolume = %+v, %v; want it pending_destroy", gone, err)
	}
	if live, err := e.c.GetVolumes(e.ctx, "app"); err != nil || len(live) != 0 {
		t.Fatalf("GetVolumes after delete = %+v, %v; fly-go should hide it", live, err)
	}
	eventually(t, "the volume destroyed and gone from the list", func() bool {
		all, err := e.c.GetAllVolumes(e.ctx, "app")
		return err == nil && len(all) == 0
	})
	if got := e.getVolume("app", v.ID); got.State != "destroyed" {
		t.Fatalf("GET destroyed volume: state %q", got.State)
	}
	if _, err := e.c.DeleteVolume(e.ctx, "app", v.ID); httpStatus(err) != http.StatusNotFound {
		t.Fatalf("deleting a destroyed volume: %v, want 404", err)
	}
	if all := e.sim.AllVolumes(); len(all) != 1 || all[0].State != "destroyed" || all[0].SizeGB != 20 {
		t.Fatalf("AllVolumes = %+v", all)
	}
}

func TestCreateVolumeRefusals(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	e.createApp("app")
	size := func(gb int) *int { return &gb }
	str := func(s string) *string { return &s }
	tests := []struct {
		name string
		app  string
		in   fly.CreateVolumeRequest
		code int
		msg  string
	}{
		{"unknown app", "nope", volumeRequest("data", "ams", 1), http.StatusNotFound, "app not found"},
		{"no name", "app", volumeRequest("", "ams", 1), http.StatusBadRequest, "name is required"},
		{"bad name", "app", volumeRequest("My-Data", "ams", 1), http.StatusBadRequest, "invalid volume name"},
		{"long name", "app", volumeRequest("a234567890123456789012345678901", "ams", 1), http.StatusBadRequest, "invalid volume name"},
		{"no region", "app", volumeRequest("data", "", 1), http.StatusBadRequest, "region is required"},
		{"unknown region", "app", volumeRequest("data", "xyz", 1), http.StatusBadRequest, "unknown region"},
		{"no size", "app", fly.CreateVolumeRequest{Name: "data", Region: "ams"}, http.StatusBadRequest, "size_gb is required"},
		{"zero size", "app", volumeRequest("data", "ams", 0), http.StatusBadRequest, "size_gb 0 outside 1..500"},
		{"over 500 GB", "app", volumeRequest("data", "ams", 501), http.StatusBadRequest, "size_gb 501 outside 1..500"},
		{"retention 0", "app", fly.CreateVolumeRequest{Name: "data", Region: "ams", SizeGb: size(1), SnapshotRetention: size(0)},
			http.StatusBadRequest, "snapshot_retention 0 outside 1..60"},
		{"retention 61", "app", fly.CreateVolumeRequest{Name: "data", Region: "ams", SizeGb: size(1), SnapshotRetention: size(61)},
			http.StatusBadRequest, "snapshot_retention 61"},
		{"fstype", "app", fly.CreateVolumeRequest{Name: "data", Region: "ams", SizeGb: size(1), FSType: str("xfs")},
			http.StatusBadRequest, "fstype"},
		{"bad compute", "app", fly.CreateVolumeRequest{Name: "data", Region: "ams", SizeGb: size(1),
			ComputeRequirements: &fly.MachineGuest{CPUKind: "shared", CPUs: 3}}, http.StatusBadRequest, "compute"},
		{"unknown snapshot", "app", fly.CreateVolumeRequest{Name: "data", Region: "ams", SnapshotID: str("vs_nope")},
			http.StatusNotFound, "snapshot vs_nope not found"},
		{"fork", "app", fly.CreateVolumeRequest{Name: "data", Region: "ams", SizeGb: size(1), SourceVolumeID: str("vol_x")},
			http.StatusNotImplemented, "source_volume_id"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.c.CreateVolume(e.ctx, tc.app, tc.in)
			wantErr(t, err, tc.code, tc.msg)
		})
	}
	if n := len(e.sim.AllVolumes()); n != 0 {
		t.Fatalf("%d volumes created by invalid requests", n)
	}
}

func TestExtendOnlyGrows(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	e.createApp("app")
	v := e.createVolume("app", volumeRequest("data", "ams", 10))

	// Three refusals and this one use up the volume's burst of extends.
	if code, body := rawDo(t, e, "PUT", "/v1/apps/app/volumes/"+v.ID+"/extend", `{}`, testToken); code != http.StatusBadRequest {
		t.Fatalf("extend without size_gb = %d %s", code, body)
	}
	for _, tc := range []struct {
		size int
		msg  string
	}{
		{5, "volumes can only grow"},
		{10, "volumes can only grow"},
		{501, "size_gb 501 outside 1..500"},
	} {
		_, _, err := e.c.ExtendVolume(e.ctx, "app", v.ID, tc.size)
		wantErr(t, err, http.StatusBadRequest, tc.msg)
	}
	if got := e.getVolume("app", v.ID); got.SizeGb != 10 {
		t.Fatalf("refused extends changed the size to %d", got.SizeGb)
	}
	if _, _, err := e.c.ExtendVolume(e.ctx, "app", "vol_0000000000000000", 20); httpStatus(err) != http.StatusNotFound {
		t.Fatalf("extend unknown volume: %v", err)
	}
}

// Volumes are limited per volume, like machines per machine: one volume's
// burst does not spend another's.
func TestVolumeRateLimitIsPerVolume(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	e.createApp("app")
	a := e.createVolume("app", volumeRequest("a", "ams", 1))
	b := e.createVolume("app", volumeRequest("b", "ams", 1))
	get := func(id string) int { return rawStatus(t, e, "GET", "/v1/apps/app/volumes/"+id, "") }
	for range 3 {
		if code := get(a.ID); code != http.StatusOK {
			t.Fatalf("GET within the burst = %d", code)
		}
	}
	if code := get(a.ID); code != http.StatusTooManyRequests {
		t.Fatalf("4th GET of one volume = %d, want 429", code)
	}
	if code := get(b.ID); code != http.StatusOK {
		t.Fatalf("GET of another volume = %d, want 200", code)
	}
	if n := e.sim.Requests()["volume_get"]; n != 5 {
		t.Fatalf("volume_get counted %d, want 5", n)
	}
}

func TestAppDeleteDestroysVolumes(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	e.createApp("app")
	v := e.createVolume("app", volumeRequest("data", "ams", 1))
	m := e.launch("app", mounting(v.ID, "ams"))
	if err := e.c.CreateVolumeSnapshot(e.ctx, "app", v.ID); err != nil {
		t.Fatal(err)
	}
	if err := e.sim.DeleteAppOutOfBand("app"); err != nil {
		t.Fatal(err)
	}
	all := e.sim.AllVolumes()
	if len(all) != 1 || all[0].State != "destroyed" || all[0].AttachedMachine != "" || all[0].App != "app" {
		t.Fatalf("AllVolumes after app delete = %+v", all)
	}
	if got := e.sim.AllMachineIDs(); got[0].ID != m.ID || got[0].State != "destroyed" {
		t.Fatalf("machine after app delete: %+v", got)
	}

	// The name is free again, and the new app starts without volumes.
	e.createApp("app")
	if vols, err := e.c.GetAllVolumes(e.ctx, "app"); err != nil || len(vols) != 0 {
		t.Fatalf("new app's volumes = %+v, %v", vols, err)
	}
	if _, err := e.c.GetVolume(e.ctx, "app", v.ID); httpStatus(err) != http.StatusNotFound {
		t.Fatalf("old app's volume from the new app: %v, want 404", err)
	}
}
