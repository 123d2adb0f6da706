package extension

import (
	"context"
	"fmt"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/log"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
	"github.com/jetway-dev/jetway/controllers/internal/extstatus"
)

// An operator restores an extension's data with the annotation
// jetway.dev/restore-from-snapshot: a snapshot id of the primary's volume
// (rolling a live extension back, say to one of Fly's daily snapshots), or
// "final" for the final snapshots its last deprovisioning kept (an
// extension deleted by mistake and re-applied with the same id adopts its
// retained app, and with it those snapshots). Both go one way:
//
//  1. resolve the request into one snapshot per machine to restore, once,
//     into status.restore (restore_targets.go). A request that cannot be
//     carried out is refused there, with the Restored condition saying
//     why, and nothing on Fly is touched;
//  2. make each machine's volume from its snapshot, in the machine's region,
//     saving each new volume's id to status at once (Fly's create has no
//     idempotency key);
//  3. replace each machine: destroy the old one, create one mounting the
//     restored volume;
//  4. snapshot the volume the old machine mounted (so a wrong snapshot id
//     loses nothing: status names the snapshot that undoes the restore),
//     then destroy it and any other volume of that machine.
//
// Each step is found again from Fly and status.restore, so a pass that dies
// anywhere is taken up by the next. The step runs before the machines are
// reconciled, so a machine being restored is replaced here and not
// recreated on its old volume. Restores are rare and one-off: a pass with
// no restore to carry out makes no Fly call here.

// reconcileRestore carries out the restore the annotation asks for. It
// returns how soon to look again while one runs.
func (r *Reconciler) reconcileRestore(ctx context.Context, ext *jetwayv1.Extension, deps *dependencies, status *statusWriter) (time.Duration, error) {
	want, asked := ext.Annotations[jetwayv1.AnnotationRestoreFromSnapshot]
	want = strings.TrimSpace(want)
	cur := ext.Status.Restore
	switch {
	case !asked:
		r.forgetRestore(ctx, ext)
		return 0, nil
	case cur != nil && cur.Request == want && cur.CompletedAt != nil:
		return 0, nil // carried out (or refused) already
	case cur == nil || cur.Request != want:
		if err := r.startRestore(ctx, ext, deps, want, status); err != nil || ext.Status.Restore.CompletedAt != nil {
			return 0, err
		}
	}
	return r.continueRestore(ctx, ext, deps, status)
}

// forgetRestore drops the last restore from status once the annotation is
// gone. One still running is cancelled: the machines are reconciled as
// usual from here, which mounts a machine the restore had destroyed on its
// old volume again (the oldest free one) and removes the restored volume
// as an extra.
func (r *Reconciler) forgetRestore(ctx context.Context, ext *jetwayv1.Extension) {
	cur := ext.Status.Restore
	if cur == nil {
		meta.RemoveStatusCondition(&ext.Status.Conditions, jetwayv1.ConditionRestored)
		return
	}
	if cur.CompletedAt == nil {
		log.FromContext(ctx).Info("Restore cancelled: the annotation was removed", "request", cur.Request)
		r.Recorder.Eventf(ext, nil, "Warning", jetwayv1.ReasonRestoreCancelled, "Restore",
			"Restore from %s cancelled before it finished: the %s annotation was removed", cur.Request, jetwayv1.AnnotationRestoreFromSnapshot)
	}
	ext.Status.Restore = nil
	meta.RemoveStatusCondition(&ext.Status.Conditions, jetwayv1.ConditionRestored)
}

// startRestore takes up a new request: it resolves it into status.restore
// and saves that, or records why it is refused.
func (r *Reconciler) startRestore(ctx context.Context, ext *jetwayv1.Extension, deps *dependencies, want string, status *statusWriter) error {
	targets, refusal, err := r.restoreTargets(ctx, ext, deps, want)
	if err != nil {
		extstatus.MarkFalse(ext, jetwayv1.ConditionRestored, reasonFor(err), "Looking up the snapshot to restore from (%s) failed: %s", want, flyMessage(err))
		return err
	}
	now := metav1.NewTime(time.Now().UTC().Truncate(time.Second))
	ext.Status.Restore = &jetwayv1.RestoreStatus{Request: want, StartedAt: &now, Volumes: targets}
	if refusal != nil {
		r.refuseRestore(ctx, ext, refusal)
		return nil
	}
	log.FromContext(ctx).Info("Restore asked for", "request", want, "machines", describeTargets(targets))
	r.Recorder.Eventf(ext, nil, "Normal", jetwayv1.ReasonRestoring, "Restore", "Restoring %s", describeTargets(targets))
	extstatus.MarkFalse(ext, jetwayv1.ConditionRestored, jetwayv1.ReasonRestoring, "Restoring %s", describeTargets(targets))
	return status.saveRestore(ctx, ext)
}

// refuseRestore finishes the restore as refused. Nothing was replaced.
func (r *Reconciler) refuseRestore(ctx context.Context, ext *jetwayv1.Extension, why *terminal) {
	now := metav1.NewTime(time.Now().UTC().Truncate(time.Second))
	ext.Status.Restore.CompletedAt = &now
	log.FromContext(ctx).Info("Restore refused", "request", ext.Status.Restore.Request, "reason", why.reason, "why", why.message)
	r.Recorder.Eventf(ext, nil, "Warning", why.reason, "Restore", "%s", why.message)
	extstatus.MarkFalse(ext, jetwayv1.ConditionRestored, why.reason, "%s; nothing was changed", why.message)
}

// continueRestore carries the running restore one pass further.
func (r *Reconciler) continueRestore(ctx context.Context, ext *jetwayv1.Extension, deps *dependencies, status *statusWriter) (time.Duration, error) {
	w, err := r.observeRestore(ctx, ext, deps)
	if err != nil {
		extstatus.MarkFalse(ext, jetwayv1.ConditionRestored, reasonFor(err), "Restoring from %s: %s", ext.Status.Restore.Request, flyMessage(err))
		return 0, err
	}
	if refusal, err := r.restoredVolumes(ctx, w, status); err != nil || refusal != nil {
		if refusal != nil {
			r.dropRestoredVolumes(ctx, w)
			r.refuseRestore(ctx, ext, refusal)
		}
		return 0, err
	}
	if err := r.replaceRestoredMachines(ctx, w, status); err != nil {
		return 0, err
	}
	done, err := r.retireReplacedVolumes(ctx, w, status)
	if err != nil || !done {
		return r.Settings.PollInterval, err
	}
	now := metav1.NewTime(time.Now().UTC().Truncate(time.Second))
	ext.Status.Restore.CompletedAt = &now
	log.FromContext(ctx).Info("Restore finished", "request", ext.Status.Restore.Request)
	r.Recorder.Eventf(ext, nil, "Normal", jetwayv1.ReasonSnapshotRestored, "Restore", "Restored %s", describeTargets(ext.Status.Restore.Volumes))
	extstatus.MarkTrue(ext, jetwayv1.ConditionRestored, jetwayv1.ReasonSnapshotRestored, "Restored %s", describeTargets(ext.Status.Restore.Volumes))
	return 0, nil
}

// describeTargets names each machine and its snapshot, for conditions and
// events.
func describeTargets(ts []jetwayv1.RestoreVolume) string {
	parts := make([]string, 0, len(ts))
	for _, t := range ts {
		parts = append(parts, fmt.Sprintf("%s/%s from %s", t.Role, t.Region, t.SnapshotID))
	}
	return strings.Join(parts, ", ")
}

// saveRestore writes status.restore and the machine list at once, the rest
// of the status as stored: a volume or machine a restore created must be
// found again by the next pass whatever happens to this one.
func (w *statusWriter) saveRestore(ctx context.Context, ext *jetwayv1.Extension) error {
	restore, machines := ext.Status.Restore.DeepCopy(), ext.Status.Machines
	err := w.apply(ctx, func(stored jetwayv1.ExtensionStatus) jetwayv1.ExtensionStatus {
		stored.Restore, stored.Machines = restore, machines
		return stored
	}, false)
	if err != nil {
		return fmt.Errorf("save restore progress: %w", err)
	}
	ext.ResourceVersion = w.stored.ResourceVersion
	return nil
}
