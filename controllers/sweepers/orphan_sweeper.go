package sweepers

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
	"sigs.k8s.io/controller-runtime/pkg/recorder"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
	"github.com/jetway-dev/jetway/internal/domain"
	"github.com/jetway-dev/jetway/internal/fly"
)

var (
	orphansFound = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "jetway_orphans",
		Help: "Fly apps, machines and volumes that carry Jetway's ownership but have no Extension, as of the last sweep.",
	}, []string{"kind"})
	orphansRemoved = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "jetway_orphans_removed_total",
		Help: "Orphaned Fly apps, machines and volumes the sweeper removed; retained_app counts apps deleted once their final snapshots expired.",
	}, []string{"kind"})
	orphansUnprovable = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "jetway_orphans_unprovable",
		Help: "Fly apps named like Jetway's, with no Extension, that the sweeper cannot prove are Jetway's and so leaves, by reason, as of the last sweep.",
	}, []string{"reason"})
	orphanSweeps = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "jetway_orphan_sweeps_total",
		Help: "Orphan sweeps by result.",
	}, []string{"result"})
)

func init() {
	metrics.Registry.MustRegister(orphansFound, orphansRemoved, orphansUnprovable, orphanSweeps)
}

// OrphanSettings configure the orphan sweeper.
type OrphanSettings struct {
	// Domain is the provider-wide naming: only apps whose names carry its
	// AppNamePrefix are looked at.
	Domain domain.Settings
	// Interval between sweeps. The first sweep comes after Interval or
	// firstSweepAfter, whichever is shorter, so a manager that restarts
	// often still sweeps.
	Interval time.Duration
	// GracePeriod an orphan must stay orphaned before it is removed, so
	// that nothing in flight (a create whose Extension is about to appear
	// in the cache, an app Fly is still deleting) is touched. It counts
	// from durable times (see orphanEvidence.since), not from when this
	// process first saw the orphan.
	GracePeriod time.Duration
	// DryRun reports orphans without removing them.
	DryRun bool
}

// firstSweepAfter bounds the wait for the first sweep after a start.
const firstSweepAfter = time.Minute

// +kubebuilder:rbac:groups=core,resources=configmaps,verbs=list;delete

// OrphanSweeper removes Fly apps and machines that carry Jetway's ownership
// metadata with no Extension behind them: what a create that landed after
// its extension's deletion, or a finalizer removed by hand, leaves behind.
// It only removes what it can prove is Jetway's, and reports the rest.
type OrphanSweeper struct {
	// Client reads Extensions from the cache, and deletes expired
	// retention records.
	Client client.Client
	// APIReader (required) reads tombstones, and confirms that an orphan's
	// Extension is really gone before anything is removed (the cache may
	// lag a create).
	APIReader client.Reader
	Fly       fly.Client
	// Recorder, when set, puts an Event on the Organization of an app the
	// sweeper cannot prove and leaves.
	Recorder recorder.EventRecorder
	Settings OrphanSettings
	Log      logr.Logger
	Now      func() time.Time

	mu sync.Mutex
	// firstSeen is the fallback clock for orphans with no durable time.
	firstSeen map[string]time.Time
}

// SweepResult is what one sweep found and did.
type SweepResult struct {
	OrphanApps, OrphanMachines   []string
	RemovedApps, RemovedMachines []string
	// OrphanVolumes and RemovedVolumes are "app/volume": volumes found in
	// retained apps (the volumes of an orphaned app go with the app).
	OrphanVolumes, RemovedVolumes []string
	// RetainedApps are apps kept for the unexpired final snapshots of a
	// deprovisioned extension (orphan_retained.go).
	RetainedApps []string
	// Unprovable are the apps left alone, each "app: reason: detail".
	Unprovable []string
}

// NeedLeaderElection is true: one sweeper per cluster is enough.
func (s *OrphanSweeper) NeedLeaderElection() bool { return true }

// Start sweeps every Interval until ctx ends.
func (s *OrphanSweeper) Start(ctx context.Context) error {
	next := time.NewTimer(min(s.Settings.Interval, firstSweepAfter))
	defer next.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-next.C:
		}
		res, err := s.Sweep(ctx)
		next.Reset(s.Settings.Interval)
		if err != nil {
			orphanSweeps.WithLabelValues("error").Inc()
			s.Log.Info("Orphan sweep failed; will try again", "error", err.Error())
			continue
		}
		orphanSweeps.WithLabelValues("ok").Inc()
		if len(res.OrphanApps)+len(res.OrphanMachines)+len(res.OrphanVolumes)+len(res.Unprovable) > 0 {
			s.Log.Info("Orphan sweep", "orphanApps", res.OrphanApps, "orphanMachines", res.OrphanMachines,
				"orphanVolumes", res.OrphanVolumes, "removedApps", res.RemovedApps, "removedMachines", res.RemovedMachines,
				"removedVolumes", res.RemovedVolumes, "retainedApps", len(res.RetainedApps),
				"unprovable", res.Unprovable, "dryRun", s.Settings.DryRun)
		}
	}
}

// sweep is one sweep's working state.
type sweep struct {
	res           *SweepResult
	ownerOf       map[string]string            // app name → live extension's Fly id
	live          map[string]bool              // Fly ids of existing Extensions
	tombOf        map[string]*domain.Tombstone // derived app name → tombstone
	recordOf      map[string]*domain.Retention // app name → retention record
	stillOrphaned map[string]bool
	unprovable    map[string]int
	confirmed     bool // ownerOf and live come from the API server, not the cache
}

// Sweep runs one sweep.
func (s *OrphanSweeper) Sweep(ctx context.Context) (*SweepResult, error) {
	var exts jetwayv1.ExtensionList
	if err := s.Client.List(ctx, &exts); err != nil {
		return nil, fmt.Errorf("list extensions: %w", err)
	}
	tombs, err := domain.ListTombstones(ctx, s.APIReader)
	if err != nil {
		return nil, err
	}
	records, err := domain.ListRetentions(ctx, s.APIReader)
	if err != nil {
		return nil, err
	}
	sw := &sweep{res: &SweepResult{}, tombOf: map[string]*domain.Tombstone{}, recordOf: map[string]*domain.Retention{},
		stillOrphaned: map[string]bool{}, unprovable: map[string]int{}}
	sw.setOwners(s.Settings.Domain.AppNamePrefix, exts.Items)
	for _, t := range tombs {
		sw.tombOf[s.Settings.Domain.AppName(t.ID)] = t
	}
	for _, rec := range records {
		// Only a record of the extension whose derived app name this is
		// speaks for the app.
		if s.Settings.Domain.AppName(rec.ID) == rec.App {
			sw.recordOf[rec.App] = rec
		}
	}
	apps, err := s.Fly.ListApps(ctx)
	if err != nil {
		return nil, fmt.Errorf("list fly apps: %w", err)
	}
	prefix := s.Settings.Domain.AppNamePrefix + "-"
	onFly := map[string]bool{}
	for _, app := range apps {
		if !strings.HasPrefix(app.Name, prefix) {
			continue
		}
		onFly[app.Name] = true
		machines, err := s.Fly.ListMachines(ctx, app.Name, nil)
		if err != nil {
			if errors.Is(err, fly.ErrNotFound) {
				delete(onFly, app.Name)
				continue // deleted meanwhile
			}
			return nil, fmt.Errorf("list machines of %s: %w", app.Name, err)
		}
		if owner, ok := sw.ownerOf[app.Name]; ok {
			if err := s.sweepMachines(ctx, sw, app.Name, owner, machines); err != nil {
				return nil, err
			}
			continue
		}
		if rec := sw.recordOf[app.Name]; rec != nil && !rec.Expired(s.now()) {
			if err := s.sweepRetained(ctx, sw, app.Name, machines, rec); err != nil {
				return nil, err
			}
			continue
		}
		removed, err := s.sweepApp(ctx, sw, app.Name, machines)
		if err != nil {
			return nil, err
		}
		if removed {
			delete(onFly, app.Name)
		}
	}
	if err := s.dropExpiredRecords(ctx, sw, records, onFly); err != nil {
		return nil, err
	}
	s.forgetExcept(sw.stillOrphaned)
	orphansFound.WithLabelValues(kindApp).Set(float64(len(sw.res.OrphanApps)))
	orphansFound.WithLabelValues(kindMachine).Set(float64(len(sw.res.OrphanMachines)))
	orphansFound.WithLabelValues(kindVolume).Set(float64(len(sw.res.OrphanVolumes)))
	retainedApps.Set(float64(len(sw.res.RetainedApps)))
	for _, reason := range []string{unprovableForeignMachine, unprovableNoEvidence} {
		orphansUnprovable.WithLabelValues(reason).Set(float64(sw.unprovable[reason]))
	}
	return sw.res, nil
}

// setOwners records every Extension that exists, deleting or not: each owns
// its app, and one being deleted is its finalizer's business.
func (sw *sweep) setOwners(prefix string, exts []jetwayv1.Extension) {
	sw.ownerOf, sw.live = map[string]string{}, map[string]bool{}
	for _, e := range exts {
		sw.ownerOf[domain.AppName(prefix, e.Spec.ID)] = e.Spec.ID
		sw.live[e.Spec.ID] = true
	}
}

// sweepApp deals with an app no Extension in the cache owns and no
// unexpired retention record holds, and reports whether it deleted it.
func (s *OrphanSweeper) sweepApp(ctx context.Context, sw *sweep, app string, machines []*fly.Machine) (bool, error) {
	var secrets []fly.Secret
	if len(machines) == 0 {
		var err error
		if secrets, err = s.Fly.Secrets(ctx, app); err != nil {
			if errors.Is(err, fly.ErrNotFound) {
				return true, nil
			}
			return false, fmt.Errorf("list secrets of %s: %w", app, err)
		}
	}
	rec := sw.recordOf[app]
	ev := judgeOrphan(s.Settings.Domain.AppNamePrefix, app, machines, sw.tombOf[app], rec, secrets)
	if ev.unprovable != "" {
		sw.unprovable[ev.unprovable]++
		sw.res.Unprovable = append(sw.res.Unprovable, fmt.Sprintf("%s: %s: %s", app, ev.unprovable, ev.detail))
		s.reportUnprovable(ctx, app, ev)
		return false, nil
	}
	key := "app/" + app
	sw.stillOrphaned[key] = true
	sw.res.OrphanApps = append(sw.res.OrphanApps, app)
	if !s.due(key, ev.since) {
		return false, nil
	}
	if owned, err := s.ownedAfterAll(ctx, sw, app); err != nil || owned {
		return false, err
	}
	if err := s.Fly.DeleteApp(ctx, app); err != nil {
		return false, fmt.Errorf("delete orphaned app %s: %w", app, err)
	}
	kind := kindApp
	if rec != nil {
		kind = kindRetainedApp // kept for its final snapshots, which have expired
	}
	orphansRemoved.WithLabelValues(kind).Inc()
	sw.res.RemovedApps = append(sw.res.RemovedApps, app)
	s.Log.Info("Deleted orphaned Fly app", "app", app, "extension", ev.extensionID,
		"orphanedSince", ev.since, "machines", len(machines), "retainedUntil", ev.retainedUntil)
	return true, nil
}

// sweepMachines removes machines in a live extension's app that carry
// another extension's id which no longer exists. (Extra machines of the
// owner itself are the Extension controller's to remove.)
func (s *OrphanSweeper) sweepMachines(ctx context.Context, sw *sweep, app, owner string, machines []*fly.Machine) error {
	for _, m := range machines {
		id := fly.MetadataOf(m, fly.MetaExtension)
		if id == "" || id == owner || sw.live[id] {
			continue
		}
		key := "machine/" + app + "/" + m.ID
		sw.stillOrphaned[key] = true
		sw.res.OrphanMachines = append(sw.res.OrphanMachines, app+"/"+m.ID)
		if !s.due(key, machineOrphanedSince(m, sw.tombOf[s.Settings.Domain.AppName(id)])) {
			continue
		}
		if err := s.confirmOwners(ctx, sw); err != nil {
			return err
		}
		if sw.live[id] {
			continue
		}
		if err := s.Fly.DestroyMachine(ctx, app, m.ID); err != nil {
			s.Log.Info("Destroying orphaned machine failed; will try again", "app", app, "machine", m.ID, "error", err.Error())
			continue
		}
		orphansRemoved.WithLabelValues(kindMachine).Inc()
		sw.res.RemovedMachines = append(sw.res.RemovedMachines, app+"/"+m.ID)
		s.Log.Info("Destroyed orphaned Fly machine", "app", app, "machine", m.ID, "extension", id)
	}
	return nil
}

// ownedAfterAll asks the API server whether an Extension owns app after
// all: the cache may not show one created a moment ago.
func (s *OrphanSweeper) ownedAfterAll(ctx context.Context, sw *sweep, app string) (bool, error) {
	if err := s.confirmOwners(ctx, sw); err != nil {
		return false, err
	}
	_, owned := sw.ownerOf[app]
	return owned, nil
}

// confirmOwners replaces the cached owners with the API server's, once per
// sweep and only when something is about to be removed.
func (s *OrphanSweeper) confirmOwners(ctx context.Context, sw *sweep) error {
	if sw.confirmed {
		return nil
	}
	var exts jetwayv1.ExtensionList
	if err := s.APIReader.List(ctx, &exts); err != nil {
		return fmt.Errorf("list extensions to confirm orphans: %w", err)
	}
	sw.setOwners(s.Settings.Domain.AppNamePrefix, exts.Items)
	sw.confirmed = true
	return nil
}

// reportUnprovable puts an Event on the app's Organization, when a
// tombstone says which one and it still exists; the metric and the sweep's
// log line cover the rest.
func (s *OrphanSweeper) reportUnprovable(ctx context.Context, app string, ev orphanEvidence) {
	if s.Recorder == nil || ev.organizationID == "" {
		return
	}
	org := &jetwayv1.Organization{}
	if err := s.Client.Get(ctx, client.ObjectKey{Name: domain.OrganizationName(ev.organizationID)}, org); err != nil {
		return
	}
	s.Recorder.Eventf(org, nil, "Warning", "OrphanUnprovable", "SweepOrphans",
		"Fly app %s has no extension but is left alone (%s): %s", app, ev.unprovable, ev.detail)
}

// due reports whether key's grace period, counted from since, is over
// (never, in dry-run mode). With no durable since, it counts from when this
// process first saw key orphaned.
func (s *OrphanSweeper) due(key string, since time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.firstSeen == nil {
		s.firstSeen = map[string]time.Time{}
	}
	now := s.now()
	if since.IsZero() {
		first, ok := s.firstSeen[key]
		if !ok {
			s.firstSeen[key] = now
			first = now
		}
		since = first
	}
	return !s.Settings.DryRun && now.Sub(since) >= s.Settings.GracePeriod
}

// forgetExcept drops the first-seen time of whatever is no longer orphaned,
// so an orphan that comes back starts a new grace period.
func (s *OrphanSweeper) forgetExcept(keep map[string]bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k := range s.firstSeen {
		if !keep[k] {
			delete(s.firstSeen, k)
		}
	}
}

func (s *OrphanSweeper) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}
