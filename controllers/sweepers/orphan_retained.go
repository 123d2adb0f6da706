package sweepers

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/jetway-dev/jetway/internal/domain"
	"github.com/jetway-dev/jetway/internal/fly"
)

// Retained apps. Deprovisioning an extension with storage keeps its Fly app,
// emptied, for the final snapshots of its volumes (Fly restores a snapshot
// only into its own app, and deleting the app makes them unreachable), and
// writes a retention record (domain.Retention). Until the record expires
// the app is not an orphan: the sweeper leaves it, and only removes what
// should not be in it, after the grace period:
//   - machines carrying the id of an extension that no longer exists (a
//     create that landed after the teardown);
//   - unattached volumes with Jetway's names (data_<role>_<region>) that the
//     record does not list: a volume create that landed after the teardown.
//     The volumes the record lists are the teardown's, which destroys each
//     once its final snapshot is recorded.
//
// Once the record has expired, the app is an orphan like any other, proven
// Jetway's by the record (the teardown wrote it after proving the app its
// own, and removed the app's secrets), its grace counted from the expiry,
// and deleted; then the record goes. A record whose extension was
// re-applied (it owns the app again) is dropped at expiry, the app kept.

var retainedApps = prometheus.NewGauge(prometheus.GaugeOpts{
	Name: "jetway_retained_apps",
	Help: "Fly apps of deprovisioned extensions kept, without machines or volumes, until their final snapshots expire, as of the last sweep.",
})

func init() { metrics.Registry.MustRegister(retainedApps) }

// Orphan kinds, as the jetway_orphans and jetway_orphans_removed_total
// metrics label them.
const (
	kindApp         = "app"
	kindMachine     = "machine"
	kindVolume      = "volume"
	kindRetainedApp = "retained_app"
)

// sweepRetained deals with an app held for the unexpired record rec of an
// extension that no longer exists.
func (s *OrphanSweeper) sweepRetained(ctx context.Context, sw *sweep, app string, machines []*fly.Machine, rec *domain.Retention) error {
	sw.res.RetainedApps = append(sw.res.RetainedApps, app)
	if err := s.sweepMachines(ctx, sw, app, "", machines); err != nil {
		return err
	}
	vols, err := s.Fly.ListVolumes(ctx, app)
	if err != nil {
		if errors.Is(err, fly.ErrNotFound) {
			return nil
		}
		return fmt.Errorf("list volumes of %s: %w", app, err)
	}
	for _, v := range vols {
		if v.IsAttached() || !jetwayVolumeName(v.Name) || rec.Lists(v.ID) {
			continue
		}
		key := "volume/" + app + "/" + v.ID
		sw.stillOrphaned[key] = true
		sw.res.OrphanVolumes = append(sw.res.OrphanVolumes, app+"/"+v.ID)
		if !s.due(key, latest(v.CreatedAt, rec.DeletionStarted)) {
			continue
		}
		if err := s.confirmOwners(ctx, sw); err != nil {
			return err
		}
		if _, owned := sw.ownerOf[app]; owned {
			return nil // re-applied meanwhile: its volumes are its own
		}
		if err := s.Fly.DeleteVolume(ctx, app, v.ID); err != nil {
			s.Log.Info("Destroying an orphaned volume failed; will try again", "app", app, "volume", v.ID, "error", err.Error())
			continue
		}
		orphansRemoved.WithLabelValues(kindVolume).Inc()
		sw.res.RemovedVolumes = append(sw.res.RemovedVolumes, app+"/"+v.ID)
		s.Log.Info("Destroyed orphaned Fly volume", "app", app, "volume", v.ID, "name", v.Name, "extension", rec.ID)
	}
	return nil
}

// dropExpiredRecords removes records that have expired and whose app is
// gone from Fly (deleted by this sweep or before) or owned by a live
// extension again. An expired record whose app is still there and
// unowned is kept: it is the proof the next sweep deletes the app by.
func (s *OrphanSweeper) dropExpiredRecords(ctx context.Context, sw *sweep, records []*domain.Retention, onFly map[string]bool) error {
	for _, rec := range records {
		if !rec.Expired(s.now()) {
			continue
		}
		_, owned := sw.ownerOf[rec.App]
		if onFly[rec.App] && !owned {
			continue
		}
		if err := domain.DeleteRetention(ctx, s.Client, rec); err != nil {
			return err
		}
		s.Log.Info("Dropped an expired retention record", "app", rec.App, "extension", rec.ID, "expired", rec.Until())
	}
	return nil
}

// jetwayVolumeName reports whether name is one Jetway gives volumes.
func jetwayVolumeName(name string) bool {
	return strings.HasPrefix(name, "data_primary_") || strings.HasPrefix(name, "data_replica_")
}
