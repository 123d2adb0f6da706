package sweepers

import (
	"context"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/go-logr/logr"
	flygo "github.com/superfly/fly-go"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
	"github.com/jetway-dev/jetway/internal/dev/flysim"
	"github.com/jetway-dev/jetway/internal/domain"
	"github.com/jetway-dev/jetway/internal/fly"
)

// TestRetainedApps drives the sweeper over apps a teardown kept for their
// final snapshots, with one clock for Fly and the sweeper: a retained app
// is no orphan until its record expires, though a volume or machine that
// landed in it after the teardown is; after the expiry the app is deleted
// and its record dropped; an expired record of a re-applied extension
// goes, its app stays.
func TestRetainedApps(t *testing.T) {
	ctx := context.Background()
	clock := time.Now().UTC().Truncate(time.Second)
	now := func() time.Time { return clock }
	sim := flysim.New(flysim.Options{Token: "tok", OrgSlug: "org", BootTime: 10 * time.Millisecond, Now: now})
	srv := httptest.NewServer(sim)
	t.Cleanup(func() { srv.Close(); sim.Close() })
	fc, err := fly.New(ctx, fly.Options{BaseURL: srv.URL, Token: "tok", OrgSlug: "org"})
	if err != nil {
		t.Fatal(err)
	}
	k8s := fake.NewClientBuilder().WithScheme(testScheme(t)).WithObjects(&jetwayv1.Extension{
		ObjectMeta: metav1.ObjectMeta{Name: "back", Namespace: "ns"},
		Spec:       jetwayv1.ExtensionSpec{ID: "back", Name: "back", PrimaryRegion: "iad"},
	}).Build()
	app := func(id string) string { return domain.AppName("jetway", id) }
	size := 1
	newVolume := func(appName string) string {
		t.Helper()
		v, err := fc.CreateVolume(ctx, appName, flygo.CreateVolumeRequest{Name: "data_primary_iad", Region: "iad", SizeGb: &size})
		if err != nil {
			t.Fatal(err)
		}
		return v.ID
	}
	// retain leaves app as a teardown does: its volume snapshotted and
	// destroyed, a record of both. keepVolume leaves the volume (a
	// teardown that has not got that far).
	retain := func(id string, keepVolume bool) (*domain.Retention, string) {
		t.Helper()
		if _, err := fc.CreateApp(ctx, app(id), app(id)); err != nil {
			t.Fatal(err)
		}
		vol := newVolume(app(id))
		if err := fc.CreateVolumeSnapshot(ctx, app(id), vol); err != nil {
			t.Fatal(err)
		}
		snaps, err := fc.ListVolumeSnapshots(ctx, app(id), vol)
		if err != nil || len(snaps) != 1 {
			t.Fatalf("snapshots = %v, %v", snaps, err)
		}
		if !keepVolume {
			if err := fc.DeleteVolume(ctx, app(id), vol); err != nil {
				t.Fatal(err)
			}
		}
		deleted := metav1.NewTime(clock)
		rec := domain.NewRetention(&jetwayv1.Extension{
			ObjectMeta: metav1.ObjectMeta{Name: domain.ExtensionName(id), Namespace: "ns", DeletionTimestamp: &deleted},
			Spec:       jetwayv1.ExtensionSpec{ID: id, Name: id},
		}, app(id))
		rec.Note(domain.RetainedVolume{Role: "primary", Region: "iad", VolumeID: vol, SizeGB: size, Mounted: true})
		rec.SetSnapshot(vol, snaps[0].ID, snaps[0].CreatedAt.Add(5*24*time.Hour))
		rec.SettleExpiry()
		if err := domain.WriteRetention(ctx, k8s, rec); err != nil {
			t.Fatal(err)
		}
		return rec, vol
	}
	_, listed := retain("kept", true)
	// What landed in it after the teardown: a volume create and a machine
	// create a killed manager had sent.
	late := newVolume(app("kept"))
	machine, err := fc.CreateMachine(ctx, app("kept"), flygo.LaunchMachineInput{Region: "iad",
		Config: &flygo.MachineConfig{Image: "img", Metadata: map[string]string{fly.MetaExtension: "kept"}}})
	if err != nil {
		t.Fatal(err)
	}
	retain("back", false) // re-applied since: the Extension exists
	if err := fc.SetSecrets(ctx, app("back"), map[string]string{fly.SecretUsername: "u", fly.SecretPassword: "p"}); err != nil {
		t.Fatal(err)
	}
	retain("vanished", false)
	if err := sim.DeleteAppOutOfBand(app("vanished")); err != nil {
		t.Fatal(err)
	}

	sweep := func() *SweepResult {
		t.Helper()
		s := &OrphanSweeper{Client: k8s, APIReader: k8s, Fly: fc, Log: logr.Discard(), Now: now,
			Settings: OrphanSettings{Domain: domain.Settings{AppNamePrefix: "jetway"}, Interval: time.Minute, GracePeriod: 10 * time.Minute}}
		res, err := s.Sweep(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	records := func() []string {
		t.Helper()
		all, err := domain.ListRetentions(ctx, k8s)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, r := range all {
			out = append(out, r.App)
		}
		slices.Sort(out)
		return out
	}
	liveVolumes := func(a string) []string {
		var out []string
		for _, v := range sim.Volumes(a) {
			if v.State == "created" {
				out = append(out, v.ID)
			}
		}
		slices.Sort(out)
		return out
	}

	res := sweep()
	if !slices.Equal(res.RetainedApps, []string{app("kept")}) || len(res.OrphanApps) != 0 || len(res.RemovedApps) != 0 {
		t.Fatalf("first sweep: retained %v, orphan apps %v, removed %v; want only %s retained", res.RetainedApps, res.OrphanApps, res.RemovedApps, app("kept"))
	}
	if want := []string{app("kept") + "/" + late}; !slices.Equal(res.OrphanVolumes, want) || len(res.RemovedVolumes) != 0 {
		t.Fatalf("first sweep: orphan volumes %v, removed %v; want %v found and, within the grace period, left", res.OrphanVolumes, res.RemovedVolumes, want)
	}

	clock = clock.Add(11 * time.Minute)
	res = sweep()
	if want := []string{app("kept") + "/" + late}; !slices.Equal(res.RemovedVolumes, want) {
		t.Fatalf("after the grace period: removed volumes %v, want %v", res.RemovedVolumes, want)
	}
	if want := []string{app("kept") + "/" + machine.ID}; !slices.Equal(res.RemovedMachines, want) {
		t.Fatalf("after the grace period: removed machines %v, want %v", res.RemovedMachines, want)
	}
	if got := liveVolumes(app("kept")); !slices.Equal(got, []string{listed}) {
		t.Fatalf("volumes left in the retained app = %v, want only the one its record lists (the teardown's to destroy), %s", got, listed)
	}
	if len(res.RemovedApps) != 0 {
		t.Fatalf("removed %v before the snapshots expired", res.RemovedApps)
	}

	// The snapshots expire (5 days), and the grace period passes.
	clock = clock.Add(5*24*time.Hour + 11*time.Minute)
	if snaps := sim.VolumeSnapshots(listed); len(snaps) != 0 {
		t.Fatalf("flysim still keeps %d snapshot(s) past their retention", len(snaps))
	}
	res = sweep()
	if want := []string{app("kept")}; !slices.Equal(res.RemovedApps, want) {
		t.Fatalf("after expiry: removed apps %v, want %v", res.RemovedApps, want)
	}
	var left []string
	for _, a := range sim.Apps() {
		left = append(left, a.Name)
	}
	if want := []string{app("back")}; !slices.Equal(left, want) {
		t.Fatalf("apps left = %v, want the re-applied extension's, %v", left, want)
	}
	if got := records(); len(got) != 0 {
		t.Fatalf("records left after expiry = %v: every one's app is gone or owned", got)
	}
}
