package controllers

import (
	"context"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/go-logr/logr"
	flygo "github.com/superfly/fly-go"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
	"github.com/jetway-dev/jetway/internal/fly"
	"github.com/jetway-dev/jetway/internal/flysim"
	"github.com/jetway-dev/jetway/internal/naming"
)

// TestOrphanSweeper drives the sweeper against the Fly stand-in over real
// HTTP; only the Extension list comes from a fake client.
func TestOrphanSweeper(t *testing.T) {
	ctx := context.Background()
	sim := flysim.New(flysim.Options{Token: "tok", OrgSlug: "org", BootTime: 10 * time.Millisecond})
	srv := httptest.NewServer(sim)
	t.Cleanup(func() { srv.Close(); sim.Close() })
	fc, err := fly.New(ctx, fly.Options{BaseURL: srv.URL, Token: "tok", OrgSlug: "org"})
	if err != nil {
		t.Fatal(err)
	}
	app := func(id string) string { return naming.AppName("jetway", id) }
	launch := func(appName, extID string) string {
		t.Helper()
		meta := map[string]string{}
		if extID != "" {
			meta[fly.MetaExtension] = extID
		}
		m, err := fc.CreateMachine(ctx, appName, flygo.LaunchMachineInput{Region: "mad", Config: &flygo.MachineConfig{Image: "img", Metadata: meta}})
		if err != nil {
			t.Fatal(err)
		}
		return m.ID
	}
	mustApp := func(name string) {
		t.Helper()
		if _, err := fc.CreateApp(ctx, name, name); err != nil {
			t.Fatal(err)
		}
	}
	// A live extension's app, with one of its machines and one left by an
	// extension that no longer exists.
	mustApp(app("live"))
	launch(app("live"), "live")
	strayMachine := launch(app("live"), "gone-too")
	// An orphan app with machines that prove it is ours.
	mustApp(app("gone"))
	launch(app("gone"), "gone")
	// An orphan app with no machines but our credentials secrets.
	mustApp(app("empty"))
	if err := fc.SetSecrets(ctx, app("empty"), map[string]string{appSecretUsername: "u", appSecretPassword: "p"}); err != nil {
		t.Fatal(err)
	}
	// Apps Jetway cannot prove it owns: left alone, whatever their name.
	mustApp(app("bare"))
	mustApp(app("foreign"))
	launch(app("foreign"), "")
	mustApp("someone-elses-app")

	k8s := fake.NewClientBuilder().WithScheme(testScheme(t)).WithObjects(&jetwayv1.Extension{
		ObjectMeta: metav1.ObjectMeta{Name: "live", Namespace: "ns"},
		Spec:       jetwayv1.ExtensionSpec{ID: "live", Name: "live", PrimaryRegion: "mad"},
	}).Build()
	now := time.Unix(1_800_000_000, 0)
	newSweeper := func(dryRun bool) *OrphanSweeper {
		return &OrphanSweeper{Client: k8s, Fly: fc, Log: logr.Discard(), Now: func() time.Time { return now },
			Settings: SweeperSettings{AppNamePrefix: "jetway", Interval: time.Minute, GracePeriod: 10 * time.Minute, DryRun: dryRun}}
	}

	dry := newSweeper(true)
	s := newSweeper(false)
	for _, sw := range []*OrphanSweeper{dry, s} {
		res, err := sw.Sweep(ctx)
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(res.OrphanApps)
		if want := []string{app("empty"), app("gone")}; !slices.Equal(res.OrphanApps, want) {
			t.Fatalf("orphan apps = %v, want %v", res.OrphanApps, want)
		}
		if want := []string{app("live") + "/" + strayMachine}; !slices.Equal(res.OrphanMachines, want) {
			t.Fatalf("orphan machines = %v, want %v", res.OrphanMachines, want)
		}
		slices.Sort(res.Unprovable)
		if want := []string{app("bare"), app("foreign")}; !slices.Equal(res.Unprovable, want) {
			t.Fatalf("unprovable = %v, want %v", res.Unprovable, want)
		}
		if len(res.RemovedApps)+len(res.RemovedMachines) != 0 {
			t.Fatalf("removed something inside the grace period: %+v", res)
		}
	}

	now = now.Add(11 * time.Minute)
	if res, err := dry.Sweep(ctx); err != nil || len(res.RemovedApps)+len(res.RemovedMachines) != 0 {
		t.Fatalf("dry run removed something (err %v): %+v", err, res)
	}
	res, err := s.Sweep(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.RemovedApps) != 2 || len(res.RemovedMachines) != 1 {
		t.Fatalf("after the grace period: removed %v and %v, want 2 apps and 1 machine", res.RemovedApps, res.RemovedMachines)
	}
	var left []string
	for _, a := range sim.Apps() {
		left = append(left, a.Name)
	}
	slices.Sort(left)
	want := []string{app("bare"), app("foreign"), app("live"), "someone-elses-app"}
	slices.Sort(want)
	if !slices.Equal(left, want) {
		t.Fatalf("apps left = %v, want %v", left, want)
	}
	for _, m := range sim.Machines(app("live")) {
		if m.ID == strayMachine && m.State != "destroyed" && m.State != "destroying" {
			t.Fatalf("stray machine %s still %s", m.ID, m.State)
		}
	}
}

func testScheme(t *testing.T) *runtime.Scheme {
	s := runtime.NewScheme()
	if err := jetwayv1.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	return s
}
