package extension

import (
	"context"
	"errors"
	"fmt"

	flygo "github.com/superfly/fly-go"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/log"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
	"github.com/jetway-dev/jetway/controllers/internal/extstatus"
	"github.com/jetway-dev/jetway/internal/domain"
	"github.com/jetway-dev/jetway/internal/fly"
)

// restorePass is what one pass of a running restore saw on Fly.
type restorePass struct {
	ext      *jetwayv1.Extension
	plan     *jetwayv1.ExtensionPlan
	app      string
	machines []*fly.Machine // the extension's live machines
	vols     []fly.Volume   // the app's volumes not on their way out
	metered  bool
}

// observeRestore lists what a restore pass works from: two Fly calls.
func (r *Reconciler) observeRestore(ctx context.Context, ext *jetwayv1.Extension, deps *dependencies) (*restorePass, error) {
	w := &restorePass{ext: ext, plan: deps.plan, app: ext.Status.AppName}
	var err error
	if w.machines, err = r.Fly.ListMachines(ctx, w.app, map[string]string{fly.MetaExtension: ext.Spec.ID}); err != nil {
		return nil, fmt.Errorf("list machines of %s: %w", w.app, err)
	}
	if w.vols, err = r.Fly.ListVolumes(ctx, w.app); err != nil {
		return nil, fmt.Errorf("list volumes of %s: %w", w.app, err)
	}
	return w, nil
}

// restoredVolumes makes the volume of each machine to restore from its
// snapshot, before any machine is touched: a snapshot Fly refuses to
// restore then refuses the whole restore with every machine as it was.
func (r *Reconciler) restoredVolumes(ctx context.Context, w *restorePass, status *statusWriter) (*terminal, error) {
	storage := w.plan.Spec.Storage
	if storage == nil {
		return newTerminal(jetwayv1.ReasonRestoreRefused, "Cannot restore: the plan %q no longer gives the extension storage", w.plan.Name), nil
	}
	for i := range w.ext.Status.Restore.Volumes {
		t := &w.ext.Status.Restore.Volumes[i]
		if t.VolumeID != nil {
			continue
		}
		k := jetwayv1.MachineKey{Role: t.Role, Region: t.Region}
		size, retention := int(t.SizeGB), snapshotRetention(storage)
		v, err := r.Fly.CreateVolume(ctx, w.app, flygo.CreateVolumeRequest{
			Name: volumeName(k), Region: k.Region, SizeGb: &size, SnapshotID: ptr.To(t.SnapshotID),
			SnapshotRetention: &retention, ComputeRequirements: machineGuest(w.plan), ComputeImage: w.plan.Spec.Image,
		})
		switch {
		case errors.Is(err, fly.ErrNotFound):
			return newTerminal(jetwayv1.ReasonSnapshotNotFound, "Fly has no snapshot %s to restore %s from (it may have expired)", t.SnapshotID, k), nil
		case errors.Is(err, fly.ErrInvalid):
			return newTerminal(jetwayv1.ReasonRestoreRefused, "Fly refused to restore %s from snapshot %s: %s", k, t.SnapshotID, flyMessage(err)), nil
		case err != nil:
			return nil, fmt.Errorf("create %s volume from snapshot %s: %w", k, t.SnapshotID, err)
		}
		t.VolumeID = ptr.To(v.ID)
		w.vols = append(w.vols, *v)
		log.FromContext(ctx).Info("Created volume from snapshot", "volume", v.ID, "snapshot", t.SnapshotID, "role", k.Role, "region", k.Region)
		r.Recorder.Eventf(w.ext, domain.VolumeRef(v.ID), "Normal", jetwayv1.ReasonRestoring, "CreateVolume",
			"Created volume %s (%d GB) in %s from snapshot %s for the %s machine", v.ID, size, k.Region, t.SnapshotID, k.Role)
		if err := status.saveRestore(ctx, w.ext); err != nil {
			return nil, err
		}
	}
	return nil, nil
}

// dropRestoredVolumes destroys the volumes a refused restore made: no
// machine mounts them yet. What cannot be destroyed now is an unattached
// extra of its machine, removed on a later pass (volume_extras.go).
func (r *Reconciler) dropRestoredVolumes(ctx context.Context, w *restorePass) {
	for _, t := range w.ext.Status.Restore.Volumes {
		if t.VolumeID == nil || mountedBy(w.machines, *t.VolumeID) != nil {
			continue
		}
		gone := []fly.Volume{{ID: *t.VolumeID, Region: t.Region}}
		for _, v := range w.vols {
			if v.ID == *t.VolumeID {
				gone = []fly.Volume{v}
			}
		}
		if err := r.meterVolumes(ctx, w.ext, w.plan, gone, r.Settings.Billing.Now(), true); err != nil {
			log.FromContext(ctx).Info("Metering a volume of a refused restore failed; it is left as an extra", "volume", *t.VolumeID, "error", err.Error())
			continue
		}
		if err := r.Fly.DeleteVolume(ctx, w.app, *t.VolumeID); err != nil {
			log.FromContext(ctx).Info("Destroying a volume of a refused restore failed; it is left as an extra", "volume", *t.VolumeID, "error", err.Error())
		}
	}
}

// replaceRestoredMachines gives each machine to restore its restored
// volume: a machine that mounts another is destroyed (its volume noted in
// status first, to be snapshotted once released) and one mounting the
// restored volume is created.
func (r *Reconciler) replaceRestoredMachines(ctx context.Context, w *restorePass, status *statusWriter) error {
	for i := range w.ext.Status.Restore.Volumes {
		t := &w.ext.Status.Restore.Volumes[i]
		k := jetwayv1.MachineKey{Role: t.Role, Region: t.Region}
		if mountedBy(w.machines, *t.VolumeID) != nil {
			continue
		}
		old := machinesOf(w.machines, k)
		for _, m := range old {
			if vol := mountedVolume(m); vol != "" && t.ReplacedVolumeID == nil {
				t.ReplacedVolumeID = ptr.To(vol)
				if err := status.saveRestore(ctx, w.ext); err != nil {
					return err
				}
			}
		}
		if err := r.destroyForRestore(ctx, w, k, old); err != nil {
			return err
		}
		m, err := r.Fly.CreateMachine(ctx, w.app, flygo.LaunchMachineInput{
			Region: k.Region,
			Name:   fmt.Sprintf("%s-%s", k.Role, k.Region),
			// The primary as it is now: a replica restored after the
			// primary learns the new one's address; any other rolls onto
			// it on a later pass (primary.go).
			Config: withVolume(newDesiredConfigs(w.ext, w.plan, currentPrimary(w.machines, nil, w.ext.Spec.PrimaryRegion)).of(k), *t.VolumeID),
		})
		if err != nil {
			extstatus.MarkFalse(w.ext, jetwayv1.ConditionMachinesReady, reasonFor(err), "Creating the restored %s machine in %s failed: %s", k.Role, k.Region, flyMessage(err))
			if term, ok := asTerminal(err); ok {
				return term
			}
			return fmt.Errorf("create restored %s machine in %s: %w", k.Role, k.Region, err)
		}
		w.machines = append(w.machines, m)
		w.ext.Status.Machines = append(w.ext.Status.Machines, jetwayv1.MachineStatus{ID: m.ID, Region: k.Region, Role: k.Role, State: m.State})
		log.FromContext(ctx).Info("Created restored machine", "machine", m.ID, "volume", *t.VolumeID, "role", k.Role, "region", k.Region)
		r.Recorder.Eventf(w.ext, domain.MachineRef(m.ID), "Normal", jetwayv1.ReasonRestoring, "CreateMachine",
			"Created %s machine %s in %s on volume %s, restored from %s", k.Role, m.ID, k.Region, *t.VolumeID, t.SnapshotID)
		if err := status.saveRestore(ctx, w.ext); err != nil {
			return err
		}
	}
	return nil
}

// destroyForRestore destroys the machines of k, their usage metered
// first (Fly forgets a destroyed machine's events).
func (r *Reconciler) destroyForRestore(ctx context.Context, w *restorePass, k jetwayv1.MachineKey, machines []*fly.Machine) error {
	if len(machines) == 0 {
		return nil
	}
	if !w.metered {
		if err := r.meterUsage(ctx, w.ext, w.plan, w.machines, r.Settings.Billing.Now(), true); err != nil {
			return err
		}
		w.metered = true
	}
	for _, m := range machines {
		if err := r.Fly.DestroyMachine(ctx, w.app, m.ID); err != nil {
			extstatus.MarkFalse(w.ext, jetwayv1.ConditionMachinesReady, reasonFor(err), "Destroying machine %s to restore it failed: %s", m.ID, flyMessage(err))
			return fmt.Errorf("destroy machine %s for a restore: %w", m.ID, err)
		}
		log.FromContext(ctx).Info("Destroyed machine to restore it from a snapshot", "machine", m.ID, "role", k.Role, "region", k.Region)
		w.ext.Status.Machines = withoutMachine(w.ext.Status.Machines, m.ID)
	}
	return nil
}

// retireReplacedVolumes snapshots the volume each restored machine mounted
// before, then destroys it and any other volume of that machine but the
// restored one. done once none is left.
func (r *Reconciler) retireReplacedVolumes(ctx context.Context, w *restorePass, status *statusWriter) (bool, error) {
	done := true
	for i := range w.ext.Status.Restore.Volumes {
		t := &w.ext.Status.Restore.Volumes[i]
		k := jetwayv1.MachineKey{Role: t.Role, Region: t.Region}
		for _, v := range volumesOf(w.vols, k) {
			if v.ID == *t.VolumeID {
				continue
			}
			if v.IsAttached() {
				done = false // Fly releases it once its destroyed machine is gone
				continue
			}
			if t.ReplacedVolumeID != nil && v.ID == *t.ReplacedVolumeID && t.ReplacedSnapshotID == nil {
				if t.ReplacedSnapshotAfter == nil {
					mark, err := r.snapshotMark(ctx, w.app, v)
					if err != nil {
						return false, err
					}
					t.ReplacedSnapshotAfter = &metav1.MicroTime{Time: mark}
					if err := status.saveRestore(ctx, w.ext); err != nil {
						return false, err
					}
				}
				snap, ready, err := r.snapshotAfter(ctx, w.app, v.ID, t.ReplacedSnapshotAfter.Time)
				if err != nil {
					return false, err
				}
				if !ready {
					done = false
					continue
				}
				t.ReplacedSnapshotID = ptr.To(snap.ID)
				r.Recorder.Eventf(w.ext, domain.VolumeRef(v.ID), "Normal", jetwayv1.ReasonRestoring, "CreateVolumeSnapshot",
					"Snapshot %s keeps what volume %s held before the restore; set %s to it to undo the restore",
					snap.ID, v.ID, jetwayv1.AnnotationRestoreFromSnapshot)
				if err := status.saveRestore(ctx, w.ext); err != nil {
					return false, err
				}
			}
			if err := r.meterVolumes(ctx, w.ext, w.plan, []fly.Volume{v}, r.Settings.Billing.Now(), true); err != nil {
				return false, err
			}
			if err := r.Fly.DeleteVolume(ctx, w.app, v.ID); err != nil {
				return false, fmt.Errorf("destroy volume %s replaced by a restore: %w", v.ID, err)
			}
			log.FromContext(ctx).Info("Destroyed volume replaced by a restore", "volume", v.ID, "role", k.Role, "region", k.Region)
		}
	}
	if !done {
		extstatus.MarkFalse(w.ext, jetwayv1.ConditionRestored, jetwayv1.ReasonRestoring,
			"Restoring %s: the machines run on their restored volumes; waiting to snapshot and destroy the volumes they replaced",
			describeTargets(w.ext.Status.Restore.Volumes))
	}
	return done, nil
}

// machinesOf are the machines of key k.
func machinesOf(machines []*fly.Machine, k jetwayv1.MachineKey) []*fly.Machine {
	var out []*fly.Machine
	for _, m := range machines {
		if m.IsActive() && keyOf(m) == k {
			out = append(out, m)
		}
	}
	return out
}

// mountedBy is the machine that mounts volume id, or nil.
func mountedBy(machines []*fly.Machine, id string) *fly.Machine {
	for _, m := range machines {
		if m.IsActive() && mountedVolume(m) == id {
			return m
		}
	}
	return nil
}

// volumesOf are the volumes of key k: named for it, in its region.
func volumesOf(vols []fly.Volume, k jetwayv1.MachineKey) []fly.Volume {
	var out []fly.Volume
	for _, v := range vols {
		if v.Name == volumeName(k) && v.Region == k.Region && v.State != "pending_destroy" && v.State != "destroyed" {
			out = append(out, v)
		}
	}
	return out
}

func withoutMachine(ms []jetwayv1.MachineStatus, id string) []jetwayv1.MachineStatus {
	out := ms[:0:0]
	for _, m := range ms {
		if m.ID != id {
			out = append(out, m)
		}
	}
	return out
}
