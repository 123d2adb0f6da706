package extension

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"

	"sigs.k8s.io/controller-runtime/pkg/log"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
	"github.com/jetway-dev/jetway/internal/domain"
	"github.com/jetway-dev/jetway/internal/fly"
)

// Fly's volume create has no idempotency key. A create whose answer is
// lost as a 408 or 500 is harmless: the next pass finds the volume by its
// name and mounts it (volumes.go). One lost as a 502 or 503 is not: fly-go
// retries those itself, so one call makes two volumes and returns the
// second, which the machine mounts, and the first stays unattached. So
// does a create whose caller gave up but that Fly carried out later. Such
// an extra holds nothing and costs its size.
//
// An extra is an unattached volume of a machine's name and region once
// that machine mounts a volume of its own: never a volume any machine
// mounts, and never one of a machine that does not exist yet or mounts
// none (it may be about to mount it). Whose machine mounts which volume is
// read from Fly's volume list (attached_machine_id) and the machine ids in
// status, so the check needs one Fly call and no memory of the pass that
// made the volume: a pass that dies between two deletions leaves the next
// to finish, and two passes deleting the same extra both succeed (a
// volume already gone is not an error). Machines under a running restore
// are left to the restore, which snapshots the volume it replaces first.
//
// It runs only where the volumes are listed anyway, or Jetway's own late
// requests are looked for: at the end of a pass that created or updated
// machines with storage (removing what that pass's retries doubled), and
// in full checks, whose settle window after Ready exists for requests that
// land late (look.go). An idle extension's resync, a look, stays one call.

// removeExtraVolumes lists the app's volumes and destroys the extras, when
// listed says this pass looked at volumes. A full check and a pass that
// made volumes both ask; the volumes are listed once per pass.
func (r *Reconciler) removeExtraVolumes(ctx context.Context, ext *jetwayv1.Extension, deps *dependencies, listed bool) error {
	if !listed || deps.extrasChecked || deps.plan.Spec.Storage == nil {
		return nil
	}
	deps.extrasChecked = true
	app := ext.Status.AppName
	vols, err := r.Fly.ListVolumes(ctx, app)
	if err != nil {
		return fmt.Errorf("list volumes of %s for extras: %w", app, err)
	}
	extras := extraVolumes(vols, ext.Status.Machines, restoringKeys(ext))
	left := leftReplicaVolumes(vols, ext.Spec.DesiredMachines())
	extras = append(extras, left...)
	if len(extras) > 0 {
		if err := r.meterVolumes(ctx, ext, deps.plan, extras, r.Settings.Billing.Now(), true); err != nil {
			return err
		}
	}
	destroyed := map[string]bool{}
	for _, v := range extras {
		err := r.Fly.DeleteVolume(ctx, app, v.ID)
		if errors.Is(err, fly.ErrConflict) {
			// Fly says a machine is bound to it after all (one created
			// since the list): it is not an extra.
			continue
		}
		if err != nil {
			return fmt.Errorf("destroy extra volume %s: %w", v.ID, err)
		}
		destroyed[v.ID] = true
		log.FromContext(ctx).Info("Destroyed an extra unattached volume", "volume", v.ID, "name", v.Name, "region", v.Region)
		why := "its machine mounts another, and a create Fly answered late or twice left this one"
		if slices.ContainsFunc(left, func(l fly.Volume) bool { return l.ID == v.ID }) {
			why = "it was the volume of a replica in a region no longer read from"
		}
		r.Recorder.Eventf(ext, domain.VolumeRef(v.ID), "Normal", jetwayv1.ReasonVolumeRemoved, "DeleteVolume",
			"Destroyed extra volume %s (%s in %s): %s", v.ID, v.Name, v.Region, why)
	}
	deps.checkedVolumes = make([]fly.Volume, 0, len(vols))
	for _, v := range vols {
		if !destroyed[v.ID] {
			deps.checkedVolumes = append(deps.checkedVolumes, v)
		}
	}
	return nil
}

// extraVolumes picks the extras among vols: unattached volumes named for a
// machine (by key) that mounts another volume of that name and region.
// machines say which machine id is which key; skip are keys left alone.
func extraVolumes(vols []fly.Volume, machines []jetwayv1.MachineStatus, skip map[jetwayv1.MachineKey]bool) []fly.Volume {
	keyOfMachine := map[string]jetwayv1.MachineKey{}
	for _, m := range machines {
		keyOfMachine[m.ID] = jetwayv1.MachineKey{Role: m.Role, Region: m.Region}
	}
	mounted := map[string]bool{}
	for _, v := range vols {
		if v.AttachedMachine == nil {
			continue
		}
		if k, ok := keyOfMachine[*v.AttachedMachine]; ok && v.Name == volumeName(k) && v.Region == k.Region && !skip[k] {
			mounted[v.Name+"\x00"+v.Region] = true
		}
	}
	var out []fly.Volume
	for _, v := range vols {
		if v.IsAttached() || v.State == "pending_destroy" || v.State == "destroyed" || !mounted[v.Name+"\x00"+v.Region] {
			continue
		}
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// restoringKeys are the machines of a restore still running.
func restoringKeys(ext *jetwayv1.Extension) map[jetwayv1.MachineKey]bool {
	rs := ext.Status.Restore
	if rs == nil || rs.CompletedAt != nil {
		return nil
	}
	out := map[jetwayv1.MachineKey]bool{}
	for _, t := range rs.Volumes {
		out[jetwayv1.MachineKey{Role: t.Role, Region: t.Region}] = true
	}
	return out
}

// leftReplicaVolumes are the unattached volumes of replicas no longer
// desired: a read region removed destroys its replica, and the replica's
// volume holds only a copy of the primary's data. A former primary's
// volume (its region changed) is never one: it may hold the only copy, and
// is left to an operator.
func leftReplicaVolumes(vols []fly.Volume, desired []jetwayv1.MachineKey) []fly.Volume {
	wanted := map[string]bool{}
	for _, k := range desired {
		wanted[volumeName(k)+"\x00"+k.Region] = true
	}
	var out []fly.Volume
	for _, v := range vols {
		if v.IsAttached() || v.State == "pending_destroy" || v.State == "destroyed" || wanted[v.Name+"\x00"+v.Region] {
			continue
		}
		if v.Name == volumeName(jetwayv1.MachineKey{Role: jetwayv1.RoleReplica, Region: v.Region}) {
			out = append(out, v)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}
