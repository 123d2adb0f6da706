package extension

import (
	"context"
	"fmt"
	"strings"

	"sigs.k8s.io/controller-runtime/pkg/log"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
	"github.com/jetway-dev/jetway/controllers/internal/extstatus"
	"github.com/jetway-dev/jetway/internal/domain"
	"github.com/jetway-dev/jetway/internal/fly"
)

// The teardown of an extension whose app holds volumes keeps the app.
// Fly restores a snapshot only into the app (and region) it was taken in,
// and deleting an app makes its snapshots unreachable, so deleting the app
// would throw the final snapshots away with it. Instead the teardown
// destroys the machines (the data stops changing), snapshots each volume,
// records the snapshots (domain.Retention), destroys the volumes, and
// removes the app's credential secrets, leaving an app that costs nothing:
// no machines, no volumes, no secrets, and a Flycast address Fly does not
// charge for (an extension re-applied with the same id adopts the app and
// gets it back, so its DNS answer is what it was). The orphan sweeper
// deletes the app once the snapshots have expired. See docs/storage.md.
//
// Each step is found again from Fly and the record, so a pass that dies
// anywhere is taken up by the next: machines listed are destroyed, a
// volume still listed has its final snapshot looked up, by the mark the
// record keeps, before one is taken (snapshots.go), and volumes are
// destroyed only once the record names their snapshots.

// retentionFor decides whether app's teardown keeps the app: it holds
// volumes, or a record says earlier snapshots in it are still kept. It
// returns the volumes and the stored record (nil when there is none). A
// Fly id has one record, in whichever namespace its first teardown wrote
// it: an extension re-applied elsewhere finds and rewrites the same one.
func (r *Reconciler) retentionFor(ctx context.Context, ext *jetwayv1.Extension, app string) (vols []fly.Volume, rec *domain.Retention, keep bool, err error) {
	if vols, err = r.Fly.ListVolumes(ctx, app); err != nil {
		extstatus.MarkTrue(ext, jetwayv1.ConditionReconciling, reasonFor(err), "Listing the volumes of Fly app %s failed: %v", app, err)
		return nil, nil, false, fmt.Errorf("list volumes of %s: %w", app, err)
	}
	if rec, err = domain.FindRetention(ctx, r.APIReader, "", ext.Spec.ID); err != nil {
		return nil, nil, false, err
	}
	keep = len(vols) > 0 || (rec != nil && rec.App == app && !rec.Expired(r.Settings.Billing.Now()))
	return vols, rec, keep, nil
}

// retireApp empties app for retention and reports whether that is done.
func (r *Reconciler) retireApp(ctx context.Context, ext *jetwayv1.Extension, app string, machines []*fly.Machine, vols []fly.Volume, stored *domain.Retention) (bool, error) {
	rec := stored
	switch {
	case rec == nil:
		rec = domain.NewRetention(ext, app)
	case !rec.DeletionStarted.Equal(ext.DeletionTimestamp.UTC()) && len(vols) > 0:
		rec.Restart(ext) // an earlier deletion's record: this one starts afresh
	}
	// What each machine mounts is written down before the machines go:
	// after, no list says which volume held a machine's data.
	changed := noteVolumes(rec, machines, vols)
	if changed && len(vols) > 0 {
		if err := domain.WriteRetention(ctx, r.Client, rec); err != nil {
			return false, err
		}
	}
	if len(machines) > 0 {
		return false, r.destroyMachines(ctx, ext, app, machines)
	}
	for _, v := range vols {
		if v.IsAttached() {
			// Fly releases a volume once its machine is destroyed.
			extstatus.MarkTrue(ext, jetwayv1.ConditionReconciling, jetwayv1.ReasonDeleting, "Waiting for Fly to release volume %s from its destroyed machine", v.ID)
			return false, nil
		}
	}
	if done, err := r.finalSnapshots(ctx, ext, app, vols, rec); err != nil || !done {
		return false, err
	}
	if err := r.destroyVolumes(ctx, ext, app, vols); err != nil {
		return false, err
	}
	if err := r.Fly.UnsetSecrets(ctx, app, fly.SecretUsername, fly.SecretPassword, fly.SecretPreviousPassword); err != nil {
		extstatus.MarkTrue(ext, jetwayv1.ConditionReconciling, reasonFor(err), "Removing the secrets of Fly app %s failed: %v", app, err)
		return false, fmt.Errorf("unset secrets of %s: %w", app, err)
	}
	if len(vols) > 0 {
		r.Recorder.Eventf(ext, nil, "Normal", jetwayv1.ReasonAppRetained, "DeleteApp",
			"Kept Fly app %s, without machines or volumes, for the final snapshots of %d volume(s) until %s",
			app, len(vols), rec.Until().Format("2006-01-02 15:04 MST"))
	}
	log.FromContext(ctx).Info("Kept Fly app for its final snapshots", "app", app, "until", rec.Until())
	return true, nil
}

// noteVolumes adds the volumes and what the machines mount to rec.
func noteVolumes(rec *domain.Retention, machines []*fly.Machine, vols []fly.Volume) bool {
	byID := map[string]fly.Volume{}
	for _, v := range vols {
		byID[v.ID] = v
	}
	changed := false
	for _, m := range machines {
		id := mountedVolume(m)
		if id == "" {
			continue
		}
		k := keyOf(m)
		v := byID[id]
		changed = rec.Note(domain.RetainedVolume{Role: k.Role, Region: k.Region, VolumeID: id, SizeGB: v.SizeGb, CreatedAt: v.CreatedAt, Mounted: true}) || changed
	}
	for _, v := range vols {
		changed = rec.Note(domain.RetainedVolume{Role: volumeRole(v.Name), Region: v.Region, VolumeID: v.ID, SizeGB: v.SizeGb, CreatedAt: v.CreatedAt}) || changed
	}
	return changed
}

// destroyMachines destroys the app's machines (all of them this
// extension's: deleteApp has checked), their usage already metered.
func (r *Reconciler) destroyMachines(ctx context.Context, ext *jetwayv1.Extension, app string, machines []*fly.Machine) error {
	extstatus.MarkTrue(ext, jetwayv1.ConditionReconciling, jetwayv1.ReasonDeleting, "Destroying %d machine(s) before the final snapshots of their volumes", len(machines))
	for _, m := range machines {
		if err := r.Fly.DestroyMachine(ctx, app, m.ID); err != nil {
			extstatus.MarkTrue(ext, jetwayv1.ConditionReconciling, reasonFor(err), "Destroying machine %s failed: %s", m.ID, flyMessage(err))
			return fmt.Errorf("destroy machine %s: %w", m.ID, err)
		}
		log.FromContext(ctx).Info("Destroyed machine before its volume's final snapshot", "app", app, "machine", m.ID)
	}
	return nil
}

// finalSnapshots takes (or finds) each volume's final snapshot and records
// it; done once every volume has one and the record says so. Every
// volume's mark is saved before any snapshot is asked for.
func (r *Reconciler) finalSnapshots(ctx context.Context, ext *jetwayv1.Extension, app string, vols []fly.Volume, rec *domain.Retention) (bool, error) {
	marked := false
	for _, v := range vols {
		if !rec.Mark(v.ID).IsZero() {
			continue
		}
		mark, err := r.snapshotMark(ctx, app, v)
		if err != nil {
			extstatus.MarkTrue(ext, jetwayv1.ConditionReconciling, reasonFor(err), "Listing the snapshots of volume %s failed: %s", v.ID, flyMessage(err))
			return false, err
		}
		rec.SetMark(v.ID, mark)
		marked = true
	}
	if marked {
		if err := domain.WriteRetention(ctx, r.Client, rec); err != nil {
			return false, err
		}
	}
	changed, pending := false, 0
	for _, v := range vols {
		snap, ready, err := r.snapshotAfter(ctx, app, v.ID, rec.Mark(v.ID))
		if err != nil {
			extstatus.MarkTrue(ext, jetwayv1.ConditionReconciling, reasonFor(err), "Taking the final snapshot of volume %s failed: %s", v.ID, flyMessage(err))
			return false, err
		}
		if !ready {
			pending++
			continue
		}
		if rec.SetSnapshot(v.ID, snap.ID, snapshotExpires(snap, v.SnapshotRetention)) {
			changed = true
			log.FromContext(ctx).Info("Took final snapshot", "app", app, "volume", v.ID, "snapshot", snap.ID)
			r.Recorder.Eventf(ext, nil, "Normal", jetwayv1.ReasonFinalSnapshot, "CreateVolumeSnapshot",
				"Final snapshot %s of volume %s (%s) in %s", snap.ID, v.ID, v.Name, v.Region)
		}
	}
	if pending == 0 && rec.SettleExpiry() {
		changed = true
	}
	if changed {
		if err := domain.WriteRetention(ctx, r.Client, rec); err != nil {
			return false, err
		}
	}
	if pending > 0 {
		extstatus.MarkTrue(ext, jetwayv1.ConditionReconciling, jetwayv1.ReasonDeleting, "Waiting for Fly to finish the final snapshots of %d volume(s)", pending)
		return false, nil
	}
	return true, nil
}

// volumeRole reads the role out of a Jetway volume name
// (data_<role>_<region>); "" for any other name.
func volumeRole(name string) string {
	for _, role := range []string{jetwayv1.RolePrimary, jetwayv1.RoleReplica} {
		if strings.HasPrefix(name, "data_"+role+"_") {
			return role
		}
	}
	return ""
}
