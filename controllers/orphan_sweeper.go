package controllers

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

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
	"github.com/jetway-dev/jetway/internal/fly"
	"github.com/jetway-dev/jetway/internal/naming"
)

var (
	orphansFound = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "jetway_orphans",
		Help: "Fly apps and machines that carry Jetway's ownership but have no Extension, as of the last sweep.",
	}, []string{"kind"})
	orphansRemoved = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "jetway_orphans_removed_total",
		Help: "Orphaned Fly apps and machines the sweeper removed.",
	}, []string{"kind"})
	orphanSweeps = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "jetway_orphan_sweeps_total",
		Help: "Orphan sweeps by result.",
	}, []string{"result"})
)

func init() {
	metrics.Registry.MustRegister(orphansFound, orphansRemoved, orphanSweeps)
}

// SweeperSettings configure the orphan sweeper.
type SweeperSettings struct {
	// AppNamePrefix is the controllers' app name prefix: only apps named
	// with it are ever considered.
	AppNamePrefix string
	// Interval between sweeps.
	Interval time.Duration
	// GracePeriod an orphan must stay orphaned before it is removed, so
	// that nothing in flight (a create whose Extension is about to appear
	// in the cache, an app Fly is still deleting) is touched.
	GracePeriod time.Duration
	// DryRun reports orphans without removing them.
	DryRun bool
}

// OrphanSweeper removes Fly apps and machines that carry Jetway's ownership
// metadata with no Extension behind them: what a crash at the wrong moment,
// or a finalizer removed by hand, can leave behind. It only removes what it
// can prove is Jetway's.
type OrphanSweeper struct {
	Client   client.Reader
	Fly      fly.Client
	Settings SweeperSettings
	Log      logr.Logger
	Now      func() time.Time

	mu        sync.Mutex
	firstSeen map[string]time.Time
}

// SweepResult is what one sweep found and did.
type SweepResult struct {
	OrphanApps, OrphanMachines   []string
	RemovedApps, RemovedMachines []string
	Unprovable                   []string
}

// NeedLeaderElection is true: one sweeper per cluster is enough.
func (s *OrphanSweeper) NeedLeaderElection() bool { return true }

// Start sweeps every Interval until ctx ends.
func (s *OrphanSweeper) Start(ctx context.Context) error {
	t := time.NewTicker(s.Settings.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			res, err := s.Sweep(ctx)
			if err != nil {
				orphanSweeps.WithLabelValues("error").Inc()
				s.Log.Info("Orphan sweep failed; will try again", "error", err.Error())
				continue
			}
			orphanSweeps.WithLabelValues("ok").Inc()
			if len(res.OrphanApps)+len(res.OrphanMachines)+len(res.Unprovable) > 0 {
				s.Log.Info("Orphan sweep", "orphanApps", res.OrphanApps, "orphanMachines", res.OrphanMachines,
					"removedApps", res.RemovedApps, "removedMachines", res.RemovedMachines,
					"unprovable", res.Unprovable, "dryRun", s.Settings.DryRun)
			}
		}
	}
}

// Sweep runs one sweep.
func (s *OrphanSweeper) Sweep(ctx context.Context) (*SweepResult, error) {
	var exts jetwayv1.ExtensionList
	if err := s.Client.List(ctx, &exts); err != nil {
		return nil, fmt.Errorf("list extensions: %w", err)
	}
	// Every Extension that exists, deleting or not, owns its app: one
	// being deleted is its finalizer's business.
	ownerOf := map[string]string{}
	live := map[string]bool{}
	for _, e := range exts.Items {
		ownerOf[naming.AppName(s.Settings.AppNamePrefix, e.Spec.ID)] = e.Spec.ID
		live[e.Spec.ID] = true
	}
	apps, err := s.Fly.ListApps(ctx)
	if err != nil {
		return nil, fmt.Errorf("list fly apps: %w", err)
	}
	res := &SweepResult{}
	stillOrphaned := map[string]bool{}
	prefix := s.Settings.AppNamePrefix + "-"
	for _, app := range apps {
		if !strings.HasPrefix(app.Name, prefix) {
			continue
		}
		machines, err := s.Fly.ListMachines(ctx, app.Name, nil)
		if err != nil {
			if errors.Is(err, fly.ErrNotFound) {
				continue // deleted meanwhile
			}
			return nil, fmt.Errorf("list machines of %s: %w", app.Name, err)
		}
		if owner, ok := ownerOf[app.Name]; ok {
			s.sweepMachines(ctx, app.Name, owner, machines, live, res, stillOrphaned)
			continue
		}
		proven, err := s.provenOurs(ctx, app.Name, machines)
		if err != nil {
			return nil, err
		}
		if !proven {
			res.Unprovable = append(res.Unprovable, app.Name)
			continue
		}
		key := "app/" + app.Name
		stillOrphaned[key] = true
		res.OrphanApps = append(res.OrphanApps, app.Name)
		if s.due(key) {
			if err := s.Fly.DeleteApp(ctx, app.Name); err != nil {
				return nil, fmt.Errorf("delete orphaned app %s: %w", app.Name, err)
			}
			orphansRemoved.WithLabelValues("app").Inc()
			res.RemovedApps = append(res.RemovedApps, app.Name)
			s.Log.Info("Deleted orphaned Fly app", "app", app.Name)
		}
	}
	s.forgetExcept(stillOrphaned)
	orphansFound.WithLabelValues("app").Set(float64(len(res.OrphanApps)))
	orphansFound.WithLabelValues("machine").Set(float64(len(res.OrphanMachines)))
	return res, nil
}

// sweepMachines removes machines in a live extension's app that carry
// another extension's id which no longer exists. (Extra machines of the
// owner itself are the Extension controller's to remove.)
func (s *OrphanSweeper) sweepMachines(ctx context.Context, app, owner string, machines []*fly.Machine, live map[string]bool, res *SweepResult, stillOrphaned map[string]bool) {
	for _, m := range machines {
		id := metadataOf(m, fly.MetaExtension)
		if id == "" || id == owner || live[id] {
			continue
		}
		key := "machine/" + app + "/" + m.ID
		stillOrphaned[key] = true
		res.OrphanMachines = append(res.OrphanMachines, app+"/"+m.ID)
		if !s.due(key) {
			continue
		}
		if err := s.Fly.DestroyMachine(ctx, app, m.ID); err != nil {
			s.Log.Info("Destroying orphaned machine failed; will try again", "app", app, "machine", m.ID, "error", err.Error())
			continue
		}
		orphansRemoved.WithLabelValues("machine").Inc()
		res.RemovedMachines = append(res.RemovedMachines, app+"/"+m.ID)
		s.Log.Info("Destroyed orphaned Fly machine", "app", app, "machine", m.ID, "extension", id)
	}
}

// provenOurs reports whether an app with no Extension is provably Jetway's:
// its machines all carry an extension id whose derived app name is this
// one, or, with no machines, it holds the credentials secrets the
// controller sets right after creating an app. Anything else is left alone.
func (s *OrphanSweeper) provenOurs(ctx context.Context, app string, machines []*fly.Machine) (bool, error) {
	if len(machines) > 0 {
		for _, m := range machines {
			id := metadataOf(m, fly.MetaExtension)
			if id == "" || naming.AppName(s.Settings.AppNamePrefix, id) != app {
				return false, nil
			}
		}
		return true, nil
	}
	names, err := s.Fly.SecretNames(ctx, app)
	if err != nil {
		if errors.Is(err, fly.ErrNotFound) {
			return false, nil
		}
		return false, fmt.Errorf("list secrets of %s: %w", app, err)
	}
	has := map[string]bool{}
	for _, n := range names {
		has[n] = true
	}
	return has[appSecretUsername] && has[appSecretPassword], nil
}

// due records when key was first seen orphaned and reports whether its
// grace period is over (never, in dry-run mode).
func (s *OrphanSweeper) due(key string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.firstSeen == nil {
		s.firstSeen = map[string]time.Time{}
	}
	now := s.now()
	first, ok := s.firstSeen[key]
	if !ok {
		s.firstSeen[key] = now
		first = now
	}
	return !s.Settings.DryRun && now.Sub(first) >= s.Settings.GracePeriod
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

func metadataOf(m *fly.Machine, key string) string {
	if m.Config == nil {
		return ""
	}
	return m.Config.Metadata[key]
}
