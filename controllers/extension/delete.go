package extension

import (
	"context"
	"errors"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/log"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
	"github.com/jetway-dev/jetway/controllers/internal/extstatus"
	"github.com/jetway-dev/jetway/internal/dns/externaldns"
	"github.com/jetway-dev/jetway/internal/domain"
	"github.com/jetway-dev/jetway/internal/fly"
)

// reconcileDelete tears the extension down: deleting the Fly app cascades to
// its machines and IPs; an app with volumes is instead emptied and kept for
// their final snapshots (retain.go). The finalizer goes only once Fly says
// the app is gone (or emptied, its snapshots recorded), the DNS record is
// removed and a tombstone is written.
func (r *Reconciler) reconcileDelete(ctx context.Context, ext *jetwayv1.Extension) (ctrl.Result, error) {
	if !controllerutil.ContainsFinalizer(ext, jetwayv1.Finalizer) {
		return ctrl.Result{}, nil
	}
	r.checks.forget(ext)
	r.fleet.forget(ext)
	status := r.statusWriter(ext.DeepCopy())
	ext.Status.Phase = jetwayv1.PhaseDeleting
	ext.Status.ErrorMessage = ""
	extstatus.MarkFalse(ext, jetwayv1.ConditionReady, jetwayv1.ReasonDeleting, "Extension is being deleted")
	extstatus.MarkTrue(ext, jetwayv1.ConditionReconciling, jetwayv1.ReasonDeleting, "Deleting the Fly app and its machines")
	meta.RemoveStatusCondition(&ext.Status.Conditions, jetwayv1.ConditionStalled)

	gone, err := r.deleteApp(ctx, ext)
	if err != nil || !gone {
		if perr := client.IgnoreNotFound(status.write(ctx, ext, false)); perr != nil {
			return ctrl.Result{}, errors.Join(err, perr)
		}
		if err != nil {
			return ctrl.Result{}, err
		}
		return ctrl.Result{RequeueAfter: r.Settings.PollInterval}, nil
	}
	if err := r.closeLedger(ctx, ext); err != nil {
		return ctrl.Result{}, err
	}
	ep := &externaldns.DNSEndpoint{}
	ep.Name, ep.Namespace = domain.DNSEndpointName(ext.Name), ext.Namespace
	if err := client.IgnoreNotFound(r.Delete(ctx, ep)); err != nil {
		return ctrl.Result{}, fmt.Errorf("delete dnsendpoint: %w", err)
	}
	if err := domain.WriteTombstone(ctx, r.Client, ext, time.Now()); err != nil {
		return ctrl.Result{}, err
	}
	r.releaseNameClaim(ctx, ext)
	patch := client.MergeFromWithOptions(ext.DeepCopy(), client.MergeFromWithOptimisticLock{})
	controllerutil.RemoveFinalizer(ext, jetwayv1.Finalizer)
	if err := r.Patch(ctx, ext, patch); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	log.FromContext(ctx).Info("Extension torn down")
	return ctrl.Result{}, nil
}

// deleteApp deletes the extension's app, or retires it for retention, and
// reports whether that is done.
// Whether the app is this extension's is decided at Fly, the way adoption
// decides it (createApp): an app another organization holds answers 404,
// and one in ours that runs a machine not carrying this extension's id is
// someone else's. A condition in status cannot decide it: the pass that
// created the app's machines may have died before writing its status, so
// an AppNameTaken from an earlier pass can outlive the truth.
func (r *Reconciler) deleteApp(ctx context.Context, ext *jetwayv1.Extension) (bool, error) {
	app := r.Settings.Domain.AppName(ext.Spec.ID)
	if _, err := r.Fly.GetApp(ctx, app); err != nil {
		if errors.Is(err, fly.ErrNotFound) {
			return true, nil
		}
		extstatus.MarkTrue(ext, jetwayv1.ConditionReconciling, reasonFor(err), "Reading Fly app %s failed: %v", app, err)
		return false, fmt.Errorf("get app %s: %w", app, err)
	}
	machines, err := r.Fly.ListMachines(ctx, app, nil)
	if err != nil {
		extstatus.MarkTrue(ext, jetwayv1.ConditionReconciling, reasonFor(err), "Listing the machines of Fly app %s failed: %v", app, err)
		return false, fmt.Errorf("list machines of %s: %w", app, err)
	}
	if m := fly.ForeignMachine(machines, ext.Spec.ID); m != nil {
		log.FromContext(ctx).Info("Leaving a Fly app that is not this extension's", "app", app, "machine", m.ID)
		r.Recorder.Eventf(ext, domain.MachineRef(m.ID), "Warning", jetwayv1.ReasonAppNameTaken, "DeleteApp",
			"Left Fly app %s alone: it runs machine %s, which is not this extension's", app, m.ID)
		return true, nil
	}
	// The app's deletion destroys its machines and volumes: their usage is
	// recorded first, from this list and one of the volumes.
	plan, err := domain.ResolvePlan(ctx, r.Client, ext.Spec.Plan)
	if err != nil {
		plan = nil // priced as when last metered; see billing.Observation
	}
	if err := r.meterUsage(ctx, ext, plan, machines, r.Settings.Billing.Now(), true); err != nil {
		return false, err
	}
	// An app with volumes is kept for their final snapshots (retain.go);
	// its volumes are destroyed by destroyVolumes below, after the machines
	// and once each one's final snapshot is recorded.
	vols, rec, keep, err := r.retentionFor(ctx, ext, app)
	if err != nil {
		return false, err
	}
	if keep {
		return r.retireApp(ctx, ext, app, machines, vols, rec)
	}
	if err := r.meterVolumesBeforeAppDelete(ctx, ext, plan, app); err != nil {
		return false, err
	}
	if err := r.Fly.DeleteApp(ctx, app); err != nil {
		extstatus.MarkTrue(ext, jetwayv1.ConditionReconciling, reasonFor(err), "Deleting Fly app %s failed: %v", app, err)
		return false, fmt.Errorf("delete app %s: %w", app, err)
	}
	log.FromContext(ctx).Info("Deleted Fly app", "app", app, "machines", len(machines))
	// Fly deletes apps asynchronously: look again until GetApp says 404.
	_, err = r.Fly.GetApp(ctx, app)
	if errors.Is(err, fly.ErrNotFound) {
		return true, nil
	}
	return false, nil
}

// destroyVolumes destroys the volumes of an app being retired, once
// retireApp has destroyed its machines and recorded every volume's final
// snapshot.
func (r *Reconciler) destroyVolumes(ctx context.Context, ext *jetwayv1.Extension, app string, vols []fly.Volume) error {
	// Metered as destroyed now, before the requests: a pass that dies
	// between the two bills no more than it should.
	plan, err := domain.ResolvePlan(ctx, r.Client, ext.Spec.Plan)
	if err != nil {
		plan = nil // priced as when last metered; see billing.Observation
	}
	if err := r.meterVolumes(ctx, ext, plan, vols, r.Settings.Billing.Now(), true); err != nil {
		return err
	}
	for _, v := range vols {
		if err := r.Fly.DeleteVolume(ctx, app, v.ID); err != nil {
			extstatus.MarkTrue(ext, jetwayv1.ConditionReconciling, reasonFor(err), "Destroying volume %s failed: %s", v.ID, flyMessage(err))
			return fmt.Errorf("destroy volume %s: %w", v.ID, err)
		}
		log.FromContext(ctx).Info("Destroyed volume after its final snapshot", "app", app, "volume", v.ID, "region", v.Region)
	}
	return nil
}
