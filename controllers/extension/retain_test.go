package extension

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	flygo "github.com/superfly/fly-go"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
	"github.com/jetway-dev/jetway/internal/dev/flysim"
	"github.com/jetway-dev/jetway/internal/domain"
	"github.com/jetway-dev/jetway/internal/fly"
)

// TestRetireAppAcrossCrashes runs the retention teardown pass by pass, as
// passes that die would leave it: a pass that died right after asking Fly
// for the final snapshot does not make the next take a second one, and a
// pass after the teardown finished changes nothing.
func TestRetireAppAcrossCrashes(t *testing.T) {
	ctx := context.Background()
	sim := flysim.New(flysim.Options{Token: "tok", OrgSlug: "org", BootTime: 10 * time.Millisecond})
	srv := httptest.NewServer(sim)
	t.Cleanup(func() { srv.Close(); sim.Close() })
	fc, err := fly.New(ctx, fly.Options{BaseURL: srv.URL, Token: "tok", OrgSlug: "org"})
	if err != nil {
		t.Fatal(err)
	}
	scheme := runtime.NewScheme()
	_ = clientgoscheme.AddToScheme(scheme)
	_ = jetwayv1.AddToScheme(scheme)
	k8s := fake.NewClientBuilder().WithScheme(scheme).Build()
	r := &Reconciler{Client: k8s, APIReader: k8s, Fly: fc, Recorder: events.NewFakeRecorder(100)}

	const app = "jetway-retire"
	if _, err := fc.CreateApp(ctx, app, app); err != nil {
		t.Fatal(err)
	}
	if err := fc.SetSecrets(ctx, app, map[string]string{fly.SecretUsername: "u", fly.SecretPassword: "p"}); err != nil {
		t.Fatal(err)
	}
	size, retention := 1, 3
	vol, err := fc.CreateVolume(ctx, app, flygo.CreateVolumeRequest{Name: "data_primary_iad", Region: "iad", SizeGb: &size, SnapshotRetention: &retention})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fc.CreateMachine(ctx, app, flygo.LaunchMachineInput{Region: "iad", Config: &flygo.MachineConfig{
		Image:    "img",
		Metadata: map[string]string{fly.MetaExtension: "x", fly.MetaRole: jetwayv1.RolePrimary, fly.MetaRegion: "iad"},
		Mounts:   []flygo.MachineMount{{Name: "data_primary_iad", Path: "/data", Volume: vol.ID}},
	}}); err != nil {
		t.Fatal(err)
	}
	deleted := metav1.NewTime(time.Now().Add(-time.Second).Truncate(time.Second))
	ext := &jetwayv1.Extension{
		ObjectMeta: metav1.ObjectMeta{Name: "ext-x", Namespace: "ns", DeletionTimestamp: &deleted},
		Spec:       jetwayv1.ExtensionSpec{ID: "x", Name: "x", PrimaryRegion: "iad"},
	}
	pass := func() bool {
		t.Helper()
		machines, err := fc.ListMachines(ctx, app, nil)
		if err != nil {
			t.Fatal(err)
		}
		vols, rec, keep, err := r.retentionFor(ctx, ext, app)
		if err != nil || !keep {
			t.Fatalf("retentionFor: keep %v, %v; an app with volumes or a record must be kept", keep, err)
		}
		done, err := r.retireApp(ctx, ext, app, machines, vols, rec)
		if err != nil {
			t.Fatal(err)
		}
		return done
	}

	// A snapshot taken while the machine still ran (one of Fly's daily
	// ones, say) is not the final one.
	if err := fc.CreateVolumeSnapshot(ctx, app, vol.ID); err != nil {
		t.Fatal(err)
	}
	daily := sim.VolumeSnapshots(vol.ID)[0].ID
	if pass() {
		t.Fatal("the first pass, which destroys the machine, says the teardown is done")
	}
	rec, _ := domain.FindRetention(ctx, k8s, "ns", "x")
	if rec == nil || len(rec.Volumes) != 1 || !rec.Volumes[0].Mounted {
		t.Fatalf("before the machine went, the record must say it mounted the volume: %+v", rec)
	}
	waitUnattached(t, fc, app, vol.ID)
	// The pass that died: it noted the mark, asked Fly for the snapshot,
	// and got no further.
	vols, rec, _, err := r.retentionFor(ctx, ext, app)
	if err != nil {
		t.Fatal(err)
	}
	mark, err := r.snapshotMark(ctx, app, vols[0])
	if err != nil {
		t.Fatal(err)
	}
	rec.SetMark(vol.ID, mark)
	if err := domain.WriteRetention(ctx, k8s, rec); err != nil {
		t.Fatal(err)
	}
	if _, _, err := r.snapshotAfter(ctx, app, vol.ID, mark); err != nil {
		t.Fatal(err)
	}
	if !pass() {
		t.Fatal("the teardown did not finish once the machine was gone")
	}
	snaps := sim.VolumeSnapshots(vol.ID)
	if len(snaps) != 2 {
		t.Fatalf("%d snapshots of the volume, want the daily one and the one the dead pass took", len(snaps))
	}
	final := snaps[1]
	rec, _ = domain.FindRetention(ctx, k8s, "ns", "x")
	if rec == nil || rec.Volumes[0].SnapshotID != final.ID || final.ID == daily {
		t.Fatalf("record = %+v, want it to name snapshot %s, taken after the volume was released", rec, final.ID)
	}
	// Stored to the second.
	if want := final.CreatedAt.Add(time.Duration(retention) * 24 * time.Hour); rec.Expires.Sub(want).Abs() >= time.Second {
		t.Errorf("record expires %v, want the snapshot's retention end %v", rec.Expires, want)
	}
	for _, v := range sim.Volumes(app) {
		if v.State == "created" {
			t.Errorf("volume left after the teardown: %+v", v)
		}
	}
	if s := sim.Secrets(app); len(s) != 0 {
		t.Errorf("secrets left on the kept app: %v", s)
	}

	// A pass after the teardown finished (the finalizer's removal failed).
	version := rec
	if !pass() {
		t.Fatal("a pass after the teardown finished says it is not done")
	}
	if n := len(sim.VolumeSnapshots(vol.ID)); n != 2 {
		t.Errorf("%d snapshots after another pass, want 2", n)
	}
	if again, _ := domain.FindRetention(ctx, k8s, "ns", "x"); again.Volumes[0].SnapshotID != version.Volumes[0].SnapshotID {
		t.Errorf("another pass rewrote the record: %+v", again)
	}
}

func waitUnattached(t *testing.T, fc fly.Client, app, id string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		vols, err := fc.ListVolumes(context.Background(), app)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range vols {
			if v.ID == id && !v.IsAttached() {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("volume %s never released by its destroyed machine", id)
}
