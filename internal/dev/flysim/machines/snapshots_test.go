package machines

import (
	"net/http"
	"regexp"
	"testing"
	"time"

	fly "github.com/superfly/fly-go"
)

var snapshotIDRE = regexp.MustCompile(`^vs_[A-Za-z0-9]{23}$`)

func TestSnapshotsAndRestore(t *testing.T) {
	t.Parallel()
	clock := newFakeClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	e := newEnv(t, Options{Now: clock.Now})
	e.createApp("app")
	retention := 2
	in := volumeRequest("data", "ams", 3)
	in.SnapshotRetention = &retention
	v := e.createVolume("app", in)

	if snaps, err := e.c.GetVolumeSnapshots(e.ctx, "app", v.ID); err != nil || len(snaps) != 0 {
		t.Fatalf("a new volume's snapshots = %+v, %v", snaps, err)
	}
	if err := e.c.CreateVolumeSnapshot(e.ctx, "app", v.ID); err != nil {
		t.Fatal(err)
	}
	snaps, err := e.c.GetVolumeSnapshots(e.ctx, "app", v.ID)
	if err != nil || len(snaps) != 1 {
		t.Fatalf("snapshots = %+v, %v", snaps, err)
	}
	sn := snaps[0]
	if !snapshotIDRE.MatchString(sn.ID) || sn.Status != "created" || sn.Size != 3<<30 || sn.VolumeSize != 3<<30 ||
		sn.Digest == "" || !sn.CreatedAt.Equal(clock.Now()) || sn.RetentionDays == nil || *sn.RetentionDays != 2 {
		t.Fatalf("snapshot = %+v", sn)
	}

	// Restores: at least the snapshotted size, in its region; no size
	// means the snapshot's.
	restore := func(region string, size *int) (*fly.Volume, error) {
		return e.c.CreateVolume(e.ctx, "app", fly.CreateVolumeRequest{Name: "restored", Region: region, SizeGb: size, SnapshotID: &sn.ID})
	}
	two, four := 2, 4
	_, err = restore("ams", &two)
	wantErr(t, err, http.StatusBadRequest, "smaller than snapshot")
	_, err = restore("fra", &four)
	wantErr(t, err, http.StatusBadRequest, "in region ams, not fra")
	if got, err := restore("ams", nil); err != nil || got.SizeGb != 3 {
		t.Fatalf("restore without a size = %+v, %v; want 3 GB", got, err)
	}
	if got, err := restore("ams", &four); err != nil || got.SizeGb != 4 {
		t.Fatalf("restore into 4 GB = %+v, %v", got, err)
	}

	// The snapshot outlives its volume, until its retention runs out.
	if _, err := e.c.DeleteVolume(e.ctx, "app", v.ID); err != nil {
		t.Fatal(err)
	}
	if err := e.c.CreateVolumeSnapshot(e.ctx, "app", v.ID); httpStatus(err) != http.StatusNotFound {
		t.Fatalf("snapshotting a deleted volume: %v, want 404", err)
	}
	if snaps, err := e.c.GetVolumeSnapshots(e.ctx, "app", v.ID); err != nil || len(snaps) != 1 {
		t.Fatalf("a deleted volume's snapshots = %+v, %v; want the one", snaps, err)
	}
	clock.Advance(48*time.Hour - time.Second)
	if n := len(e.sim.VolumeSnapshots(v.ID)); n != 1 {
		t.Fatalf("%d snapshots a second before expiry, want 1", n)
	}
	clock.Advance(time.Second)
	if snaps, err := e.c.GetVolumeSnapshots(e.ctx, "app", v.ID); err != nil || len(snaps) != 0 {
		t.Fatalf("snapshots after retention = %+v, %v; want none", snaps, err)
	}
	_, err = restore("ams", nil)
	wantErr(t, err, http.StatusNotFound, "snapshot "+sn.ID+" not found")
}

// A snapshot is restored only within its app.
func TestSnapshotOfAnotherApp(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	e.createApp("app")
	e.createApp("other")
	v := e.createVolume("other", volumeRequest("data", "ams", 1))
	if err := e.c.CreateVolumeSnapshot(e.ctx, "other", v.ID); err != nil {
		t.Fatal(err)
	}
	id := e.sim.VolumeSnapshots(v.ID)[0].ID
	_, err := e.c.CreateVolume(e.ctx, "app", fly.CreateVolumeRequest{Name: "data", Region: "ams", SnapshotID: &id})
	wantErr(t, err, http.StatusNotFound, "not found")
	if _, err := e.c.GetVolumeSnapshots(e.ctx, "app", v.ID); httpStatus(err) != http.StatusNotFound {
		t.Fatalf("listing another app's volume's snapshots: %v, want 404", err)
	}
}
