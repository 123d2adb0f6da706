package extension

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/jetway-dev/jetway/internal/fly"
)

// Snapshots are taken before Jetway destroys a volume that held data: the
// final snapshot of each volume when an extension is deprovisioned, and
// the snapshot of the volume a restore replaces. Fly's snapshot create has
// no idempotency key and answers without the snapshot, so a pass that dies
// after asking cannot tell from its own memory whether one was taken.
//
// So before asking, once Fly has released the volume from its destroyed
// machine (its data no longer changes), the pass notes a mark and saves it
// (in the retention record, or status.restore): the creation time of the
// volume's newest snapshot, or of the volume itself when it has none, as
// Fly reports them. A snapshot Fly lists as made after the mark is one
// taken after the volume was released, and no second is asked for. Both
// sides of the comparison are Fly's clock: no skew between Fly and the
// cluster, and no rounding of times to the second, can make a snapshot
// from before the volume was released count, however fast the passes run.

// snapshotInProgress are statuses of a snapshot Fly is still making. Fly
// does not document them (its API spec gives status as a bare string and
// flysim lists a snapshot as "created" at once); these are the words for
// it that its other APIs use. A volume is destroyed only once its snapshot
// has left them.
var snapshotInProgress = map[string]bool{"pending": true, "running": true, "creating": true, "in_progress": true}

// snapshotFailed is a snapshot Fly could not make: it does not count.
const snapshotFailed = "failed"

// defaultSnapshotRetention is Fly's, for volumes that do not say.
const defaultSnapshotRetention = 5

// snapshotMark is the mark for volume vol, released: its newest
// snapshot's creation time, or its own when it has none.
func (r *Reconciler) snapshotMark(ctx context.Context, app string, vol fly.Volume) (time.Time, error) {
	snaps, err := r.Fly.ListVolumeSnapshots(ctx, app, vol.ID)
	if err != nil {
		return time.Time{}, fmt.Errorf("list snapshots of volume %s: %w", vol.ID, err)
	}
	mark := vol.CreatedAt
	for _, s := range snaps {
		if s.CreatedAt.After(mark) {
			mark = s.CreatedAt
		}
	}
	return mark.UTC().Truncate(markPrecision), nil
}

// markPrecision is how finely marks are kept and compared: status keeps
// times to the microsecond (metav1.MicroTime). Fly's snapshots are made
// far further apart than that.
const markPrecision = time.Microsecond

// snapshotAfter returns the newest snapshot of volume made after mark,
// asking Fly for one when there is none. ready is false while Fly is still
// making it (or does not list it yet): look again later.
func (r *Reconciler) snapshotAfter(ctx context.Context, app, volume string, mark time.Time) (snap *fly.VolumeSnapshot, ready bool, err error) {
	snaps, err := r.Fly.ListVolumeSnapshots(ctx, app, volume)
	if err != nil {
		return nil, false, fmt.Errorf("list snapshots of volume %s: %w", volume, err)
	}
	if s := newestAfter(snaps, mark); s != nil {
		return s, !snapshotInProgress[s.Status], nil
	}
	if err := r.Fly.CreateVolumeSnapshot(ctx, app, volume); err != nil {
		return nil, false, fmt.Errorf("snapshot volume %s: %w", volume, err)
	}
	if snaps, err = r.Fly.ListVolumeSnapshots(ctx, app, volume); err != nil {
		return nil, false, fmt.Errorf("list snapshots of volume %s: %w", volume, err)
	}
	s := newestAfter(snaps, mark)
	return s, s != nil && !snapshotInProgress[s.Status], nil
}

// newestAfter is the newest snapshot made after mark that did not fail,
// or nil.
func newestAfter(snaps []fly.VolumeSnapshot, mark time.Time) *fly.VolumeSnapshot {
	var ok []fly.VolumeSnapshot
	for _, s := range snaps {
		if s.Status != snapshotFailed && s.CreatedAt.Truncate(markPrecision).After(mark.Truncate(markPrecision)) {
			ok = append(ok, s)
		}
	}
	if len(ok) == 0 {
		return nil
	}
	sort.Slice(ok, func(i, j int) bool {
		if !ok[i].CreatedAt.Equal(ok[j].CreatedAt) {
			return ok[i].CreatedAt.After(ok[j].CreatedAt)
		}
		return ok[i].ID > ok[j].ID
	})
	return &ok[0]
}

// snapshotExpires is when Fly drops snap, a snapshot of a volume that
// keeps its snapshots volumeRetention days (0: Fly's default).
func snapshotExpires(snap *fly.VolumeSnapshot, volumeRetention int) time.Time {
	days := volumeRetention
	if snap.RetentionDays != nil && *snap.RetentionDays > 0 {
		days = *snap.RetentionDays
	}
	if days <= 0 {
		days = defaultSnapshotRetention
	}
	return snap.CreatedAt.UTC().Add(time.Duration(days) * 24 * time.Hour)
}
