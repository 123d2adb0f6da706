package machines

import (
	"testing"
	"time"
)

// The volume truth log: created, extended and destroyed, by Options.Now,
// kept after the volume (and its app) are gone.
func TestVolumeTruthLog(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	clock := newFakeClock(t0)
	e := newEnv(t, Options{Now: clock.Now})
	e.createApp("app")
	a := e.createVolume("app", volumeRequest("a", "ams", 3))
	b := e.createVolume("app", volumeRequest("b", "ams", 1))
	if !a.CreatedAt.Equal(t0) {
		t.Fatalf("created_at %s, want the clock's %s", a.CreatedAt, t0)
	}
	clock.Advance(time.Hour)
	if _, _, err := e.c.ExtendVolume(e.ctx, "app", a.ID, 5); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Hour)
	if _, err := e.c.DeleteVolume(e.ctx, "app", b.ID); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Hour)
	if err := e.c.DeleteApp(e.ctx, "app"); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Hour)

	want := []VolumeChange{{t0, 3}, {t0.Add(time.Hour), 5}, {t0.Add(3 * time.Hour), 0}}
	if got := e.sim.VolumeHistory(a.ID); len(got) != len(want) || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Errorf("history of a = %+v, want %+v", got, want)
	}
	if got := e.sim.VolumeHistory(b.ID); len(got) != 2 || got[1] != (VolumeChange{t0.Add(2 * time.Hour), 0}) {
		t.Errorf("history of b = %+v: the delete was not logged once, when accepted", got)
	}
	all := e.sim.VolumeTime(a.ID, time.Time{}, t0.Add(24*time.Hour))
	if all[3] != time.Hour || all[5] != 2*time.Hour || len(all) != 2 {
		t.Errorf("a existed %v, want 1 h at 3 GB and 2 h at 5 GB", all)
	}
	if part := e.sim.VolumeTime(a.ID, t0.Add(30*time.Minute), t0.Add(90*time.Minute)); part[3] != 30*time.Minute || part[5] != 30*time.Minute {
		t.Errorf("a within [0:30, 1:30) existed %v, want 30 min at each size", part)
	}
	if got := e.sim.VolumeTime("vol_unknown", time.Time{}, t0.Add(24*time.Hour)); len(got) != 0 {
		t.Errorf("an unknown volume existed %v", got)
	}
}

// A volume still alive counts up to now.
func TestVolumeTimeOfALiveVolumeStopsAtNow(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	clock := newFakeClock(t0)
	e := newEnv(t, Options{Now: clock.Now})
	e.createApp("app")
	v := e.createVolume("app", volumeRequest("a", "ams", 2))
	clock.Advance(10 * time.Minute)
	if got := e.sim.VolumeTime(v.ID, time.Time{}, t0.Add(24*time.Hour)); got[2] != 10*time.Minute {
		t.Errorf("existed %v, want 10 min at 2 GB", got)
	}
}
