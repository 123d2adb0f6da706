package extension

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"time"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
	"github.com/jetway-dev/jetway/internal/domain"
	"github.com/jetway-dev/jetway/internal/fly"
)

// Which machines a restore replaces, each from which snapshot:
//
//   - "final": every machine whose volume got a final snapshot when the
//     extension was last deprovisioned, from its own (the retention record
//     says which). The primary and each replica come back as they were.
//   - a snapshot id: the primary, from that snapshot, which must be of a
//     volume in the primary's region (Fly restores a snapshot only in its
//     own region). A replica in the same region is restored from it too;
//     replicas in other regions are left as they are, to catch up from the
//     primary by the service's own replication, as a new replica does.
//
// A snapshot id is looked for among the snapshots of the app's volumes,
// of the volumes the last deprovisioning destroyed, and of the volumes the
// last restore replaced: Fly lists a snapshot only by its volume.

// snapshotIDPattern is what a snapshot id can be: Fly's are "vs_" and
// letters and digits. Anything else is refused before asking Fly.
var snapshotIDPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,128}$`)

// restoreTargets resolves want into the machines to restore. refusal says
// why it cannot be carried out; err is a failure worth retrying.
func (r *Reconciler) restoreTargets(ctx context.Context, ext *jetwayv1.Extension, deps *dependencies, want string) (targets []jetwayv1.RestoreVolume, refusal *terminal, err error) {
	storage := deps.plan.Spec.Storage
	switch {
	case want != jetwayv1.RestoreFinal && !snapshotIDPattern.MatchString(want):
		return nil, newTerminal(jetwayv1.ReasonRestoreRefused, "%s is %q, which is neither a snapshot id (vs_…) nor %q",
			jetwayv1.AnnotationRestoreFromSnapshot, want, jetwayv1.RestoreFinal), nil
	case storage == nil:
		return nil, newTerminal(jetwayv1.ReasonRestoreRefused, "Cannot restore from %s: the plan %q gives the extension no storage",
			want, deps.plan.Name), nil
	}
	rec, err := domain.FindRetention(ctx, r.APIReader, "", ext.Spec.ID)
	if err != nil {
		return nil, nil, err
	}
	if rec != nil && rec.App != ext.Status.AppName {
		rec = nil
	}
	if want == jetwayv1.RestoreFinal {
		targets, refusal = finalTargets(ext, storage, rec, r.Settings.Billing.Now())
		return targets, refusal, nil
	}
	src, err := r.findSnapshot(ctx, ext, rec, want)
	if err != nil || src == nil {
		if err == nil {
			refusal = newTerminal(jetwayv1.ReasonSnapshotNotFound,
				"Snapshot %s is not a snapshot of this extension's volumes that Fly still keeps", want)
		}
		return nil, refusal, err
	}
	if src.region != ext.Spec.PrimaryRegion {
		return nil, newTerminal(jetwayv1.ReasonRestoreRefused,
			"Snapshot %s is of a volume in %s; Fly restores a snapshot only in its own region, and the primary runs in %s",
			want, src.region, ext.Spec.PrimaryRegion), nil
	}
	for _, k := range ext.Spec.DesiredMachines() {
		if k.Region == src.region {
			targets = append(targets, jetwayv1.RestoreVolume{Role: k.Role, Region: k.Region, SnapshotID: want,
				SizeGB: restoredSize(storage, src.sizeGB)})
		}
	}
	return targets, nil, nil
}

// finalTargets are the machines rec keeps a final snapshot for.
func finalTargets(ext *jetwayv1.Extension, storage *jetwayv1.StorageSpec, rec *domain.Retention, now time.Time) ([]jetwayv1.RestoreVolume, *terminal) {
	switch {
	case rec == nil:
		return nil, newTerminal(jetwayv1.ReasonSnapshotNotFound,
			"No final snapshots are kept for this extension: it was not deprovisioned with volumes in app %s, or they have expired", ext.Status.AppName)
	case rec.Expired(now):
		return nil, newTerminal(jetwayv1.ReasonSnapshotNotFound, "The final snapshots of this extension expired at %s",
			rec.Until().Format(time.RFC3339))
	}
	var targets []jetwayv1.RestoreVolume
	for _, k := range ext.Spec.DesiredMachines() {
		if v, ok := rec.FinalSnapshot(k.Role, k.Region); ok {
			targets = append(targets, jetwayv1.RestoreVolume{Role: k.Role, Region: k.Region, SnapshotID: v.SnapshotID,
				SizeGB: restoredSize(storage, v.SizeGB)})
		}
	}
	if len(targets) == 0 {
		return nil, newTerminal(jetwayv1.ReasonSnapshotNotFound,
			"None of the final snapshots kept for this extension (of %d volume(s)) is of a machine it has now", len(rec.Volumes))
	}
	return targets, nil
}

// snapshotSource is where a snapshot was found.
type snapshotSource struct {
	region string
	sizeGB int
}

// findSnapshot looks for snapshot id among the snapshots of every volume
// the extension is known to have had; nil when none has it.
func (r *Reconciler) findSnapshot(ctx context.Context, ext *jetwayv1.Extension, rec *domain.Retention, id string) (*snapshotSource, error) {
	app := ext.Status.AppName
	live, err := r.Fly.ListVolumes(ctx, app)
	if err != nil {
		return nil, fmt.Errorf("list volumes of %s: %w", app, err)
	}
	var candidates []snapshotSource
	var volumeIDs []string
	add := func(volumeID, region string, sizeGB int) {
		for _, seen := range volumeIDs {
			if seen == volumeID {
				return
			}
		}
		volumeIDs = append(volumeIDs, volumeID)
		candidates = append(candidates, snapshotSource{region: region, sizeGB: sizeGB})
	}
	for _, v := range live {
		add(v.ID, v.Region, v.SizeGb)
	}
	if rec != nil {
		for _, v := range rec.Volumes {
			add(v.VolumeID, v.Region, v.SizeGB)
		}
	}
	if last := ext.Status.Restore; last != nil {
		for _, t := range last.Volumes {
			if t.ReplacedVolumeID != nil {
				add(*t.ReplacedVolumeID, t.Region, int(t.SizeGB))
			}
		}
	}
	for i, volumeID := range volumeIDs {
		snaps, err := r.Fly.ListVolumeSnapshots(ctx, app, volumeID)
		if errors.Is(err, fly.ErrNotFound) {
			continue // a volume Fly no longer knows: its snapshots are gone too
		}
		if err != nil {
			return nil, fmt.Errorf("list snapshots of volume %s: %w", volumeID, err)
		}
		for _, s := range snaps {
			if s.ID == id && s.Status != snapshotFailed {
				return &candidates[i], nil
			}
		}
	}
	return nil, nil
}

// restoredSize is the size of a volume restored from a snapshot of a
// volume of sizeGB: the plan's, or the snapshotted volume's if that is
// bigger (Fly restores only into a volume at least as big).
func restoredSize(storage *jetwayv1.StorageSpec, sizeGB int) int32 {
	return max(storage.SizeGB, int32(min(sizeGB, 500)))
}
