package sweepers

import (
	"context"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
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

// TestOrphanSweeper drives the sweeper against the Fly stand-in over real
// HTTP; only the Extension list and tombstones come from a fake client.
func TestOrphanSweeper(t *testing.T) {
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
	app := func(id string) string { return domain.AppName("jetway", id) }
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
	if err := fc.SetSecrets(ctx, app("empty"), map[string]string{fly.SecretUsername: "u", fly.SecretPassword: "p"}); err != nil {
		t.Fatal(err)
	}
	// A bare app whose extension's deletion is on record: a create that
	// landed after the teardown. Its grace counts from the deletion.
	mustApp(app("deleted-long-ago"))
	// Apps Jetway cannot prove it owns: left alone, whatever their name,
	// even when a tombstone has the name.
	mustApp(app("bare"))
	mustApp(app("foreign"))
	launch(app("foreign"), "")
	mustApp(app("hijacked"))
	launch(app("hijacked"), "someone-else")
	mustApp("someone-elses-app")

	k8s := fake.NewClientBuilder().WithScheme(testScheme(t)).WithObjects(
		&jetwayv1.Extension{
			ObjectMeta: metav1.ObjectMeta{Name: "live", Namespace: "ns"},
			Spec:       jetwayv1.ExtensionSpec{ID: "live", Name: "live", PrimaryRegion: "mad"},
		},
		&jetwayv1.Organization{ObjectMeta: metav1.ObjectMeta{Name: domain.OrganizationName("o1")}, Spec: jetwayv1.OrganizationSpec{ID: "o1"}},
	).Build()
	tombstone := func(id string, at time.Time) {
		t.Helper()
		ext := &jetwayv1.Extension{ObjectMeta: metav1.ObjectMeta{Name: domain.ExtensionName(id), Namespace: "ns"},
			Spec: jetwayv1.ExtensionSpec{ID: id, Name: id, Organization: jetwayv1.OrganizationRef{ID: "o1"}}}
		if err := domain.WriteTombstone(ctx, k8s, ext, at); err != nil {
			t.Fatal(err)
		}
	}
	tombstone("deleted-long-ago", clock.Add(-time.Hour))
	tombstone("hijacked", clock.Add(-time.Hour))
	sink := events.NewFakeRecorder(10)
	newSweeper := func(dryRun bool) *OrphanSweeper {
		return &OrphanSweeper{Client: k8s, APIReader: k8s, Fly: fc, Recorder: sink, Log: logr.Discard(), Now: now,
			Settings: OrphanSettings{Domain: domain.Settings{AppNamePrefix: "jetway"}, Interval: time.Minute, GracePeriod: 10 * time.Minute, DryRun: dryRun}}
	}

	dry := newSweeper(true)
	if res, err := dry.Sweep(ctx); err != nil || len(res.RemovedApps)+len(res.RemovedMachines) != 0 {
		t.Fatalf("dry run removed something (err %v): %+v", err, res)
	}
	// A new sweeper is a restarted manager: it remembers nothing, and the
	// orphan deleted an hour ago is due at once.
	res, err := newSweeper(false).Sweep(ctx)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(res.OrphanApps)
	if want := sorted(app("deleted-long-ago"), app("empty"), app("gone")); !slices.Equal(res.OrphanApps, want) {
		t.Fatalf("orphan apps = %v, want %v", res.OrphanApps, want)
	}
	if want := []string{app("live") + "/" + strayMachine}; !slices.Equal(res.OrphanMachines, want) {
		t.Fatalf("orphan machines = %v, want %v", res.OrphanMachines, want)
	}
	slices.Sort(res.Unprovable)
	wantUnprovable := sorted(app("bare")+": NoEvidence", app("foreign")+": ForeignMachine", app("hijacked")+": ForeignMachine")
	if len(res.Unprovable) != len(wantUnprovable) {
		t.Fatalf("unprovable = %v, want %v", res.Unprovable, wantUnprovable)
	}
	for i, u := range res.Unprovable {
		if !strings.HasPrefix(u, wantUnprovable[i]+": ") {
			t.Fatalf("unprovable[%d] = %q, want it to start with %q", i, u, wantUnprovable[i])
		}
	}
	if want := []string{app("deleted-long-ago")}; !slices.Equal(res.RemovedApps, want) || len(res.RemovedMachines) != 0 {
		t.Fatalf("within the grace period of their machines and secrets: removed %v and %v, want only %v",
			res.RemovedApps, res.RemovedMachines, want)
	}
	// The hijacked app's tombstone names an organization: the Event goes there.
	select {
	case e := <-sink.Events:
		if !strings.Contains(e, "OrphanUnprovable") || !strings.Contains(e, app("hijacked")) {
			t.Fatalf("event = %q, want OrphanUnprovable about %s", e, app("hijacked"))
		}
	default:
		t.Fatal("no Event for the unprovable app of a known organization")
	}

	// Past the grace period of the newest machine and secret: a sweeper
	// started afresh removes the rest.
	clock = clock.Add(11 * time.Minute)
	res, err = newSweeper(false).Sweep(ctx)
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
	if want := sorted(app("bare"), app("foreign"), app("hijacked"), app("live"), "someone-elses-app"); !slices.Equal(left, want) {
		t.Fatalf("apps left = %v, want %v", left, want)
	}
	for _, m := range sim.Machines(app("live")) {
		if m.ID == strayMachine && m.State != "destroyed" && m.State != "destroying" {
			t.Fatalf("stray machine %s still %s", m.ID, m.State)
		}
	}
}

// TestOrphanSweeperConfirmsWithTheAPIServer: an Extension the cache does
// not show yet still owns its app.
func TestOrphanSweeperConfirmsWithTheAPIServer(t *testing.T) {
	ctx := context.Background()
	sim := flysim.New(flysim.Options{Token: "tok", OrgSlug: "org", BootTime: 10 * time.Millisecond})
	srv := httptest.NewServer(sim)
	t.Cleanup(func() { srv.Close(); sim.Close() })
	fc, err := fly.New(ctx, fly.Options{BaseURL: srv.URL, Token: "tok", OrgSlug: "org"})
	if err != nil {
		t.Fatal(err)
	}
	name := domain.AppName("jetway", "new")
	if _, err := fc.CreateApp(ctx, name, name); err != nil {
		t.Fatal(err)
	}
	if _, err := fc.CreateMachine(ctx, name, flygo.LaunchMachineInput{Region: "mad",
		Config: &flygo.MachineConfig{Image: "img", Metadata: map[string]string{fly.MetaExtension: "new"}}}); err != nil {
		t.Fatal(err)
	}
	staleCache := fake.NewClientBuilder().WithScheme(testScheme(t)).Build()
	apiServer := fake.NewClientBuilder().WithScheme(testScheme(t)).WithObjects(&jetwayv1.Extension{
		ObjectMeta: metav1.ObjectMeta{Name: "new", Namespace: "ns"},
		Spec:       jetwayv1.ExtensionSpec{ID: "new", Name: "new", PrimaryRegion: "mad"},
	}).Build()
	s := &OrphanSweeper{Client: staleCache, APIReader: apiServer, Fly: fc, Log: logr.Discard(),
		Settings: OrphanSettings{Domain: domain.Settings{AppNamePrefix: "jetway"}, Interval: time.Minute}}
	res, err := s.Sweep(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.RemovedApps) != 0 || len(sim.Apps()) != 1 {
		t.Fatalf("removed the app of an Extension only the API server shows: %+v", res)
	}
}

func sorted(s ...string) []string {
	slices.Sort(s)
	return s
}

func testScheme(t *testing.T) *runtime.Scheme {
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	if err := jetwayv1.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	return s
}
