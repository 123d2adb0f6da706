package extension

import (
	"context"
	"fmt"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
	"github.com/jetway-dev/jetway/internal/billing"
	"github.com/jetway-dev/jetway/internal/domain"
	"github.com/jetway-dev/jetway/internal/fly"
)

// Volumes are metered for GB × the time they exist (docs/billing.md). The
// meter learns of them wherever Jetway sees them anyway, and adds one Fly
// call only where nothing else proves them:
//
//   - every list of the app's volumes: on a pass that creates or updates
//     machines (volumesFor), and on a full check of an extension with
//     storage (meterVolumesOnCheck);
//   - every look at the machines: a machine bound to a volume proves the
//     volume exists, since Fly will not destroy a volume bound to a
//     machine (billing.Meter), so an idle extension's volumes cost no call;
//   - before Jetway destroys volumes: before it deletes the app, whose
//     volumes die with it (meterVolumesBeforeAppDelete), and before any
//     volume it deletes on its own, whose caller calls meterVolumes with
//     destroyed set.
//
// A volume bound to no machine (left by a pass that died, or by a machine
// removed) is proven only by a list. Closing a day needs every volume
// proven past midnight, so the first look of a UTC day that finds such a
// volume unproven since midnight lists the volumes once.

// meterVolumes records what Jetway saw of the extension's volumes at now.
// Unless destroyed, vols must be every live volume of the app (a list, plus
// what Jetway created since): a metered volume missing from them is taken
// for gone, billed to when it was last seen. With destroyed, Jetway is
// asking Fly at now to destroy vols, and only those; call it before the
// request, so that a pass that dies after it loses nothing. A caller that
// extends a volume passes the app's list with the extended volume as Fly
// answered it: its new size is billed from now.
func (r *Reconciler) meterVolumes(ctx context.Context, ext *jetwayv1.Extension, plan *jetwayv1.ExtensionPlan, vols []fly.Volume, now time.Time, destroyed bool) error {
	obs := billing.VolumeObservation{Volumes: vols, At: now, Destroyed: destroyed, GBHourPrice: r.volumePrice(plan)}
	return r.editLedger(ctx, ext, now, func(ledger *jetwayv1.UsageLedgerSpec) bool {
		return billing.MeterVolumes(ledger, obs)
	})
}

// meterVolumesOnCheck lists and meters the extension's volumes on a full
// check, when its plan has storage or its ledger knows a live volume (a
// plan that dropped storage leaves its volumes), and on the first look of
// a day that finds a volume only a list can prove (volumeListDue).
func (r *Reconciler) meterVolumesOnCheck(ctx context.Context, ext *jetwayv1.Extension, deps *dependencies, full bool) error {
	if deps.appIsNew {
		return nil // volumesFor listed and metered whatever this pass made
	}
	ledger, err := r.cachedLedger(ctx, ext)
	if err != nil {
		return err
	}
	now := r.Settings.Billing.Now()
	checked := full && (deps.plan.Spec.Storage != nil || hasLiveVolumes(ledger))
	if !checked && !volumeListDue(ledger, ext, now) {
		return nil
	}
	vols := deps.checkedVolumes // listed this pass already, by the look for extras
	if vols == nil {
		if vols, err = r.Fly.ListVolumes(ctx, ext.Status.AppName); err != nil {
			return fmt.Errorf("list volumes of %s to meter them: %w", ext.Status.AppName, err)
		}
	}
	return r.meterVolumes(ctx, ext, deps.plan, vols, r.Settings.Billing.Now(), false)
}

// meterVolumesBeforeAppDelete records, just before the app is deleted,
// that its volumes are being destroyed. plan is nil when it cannot be
// read; the volumes are listed then, as when the plan has storage or the
// ledger knows one.
func (r *Reconciler) meterVolumesBeforeAppDelete(ctx context.Context, ext *jetwayv1.Extension, plan *jetwayv1.ExtensionPlan, app string) error {
	ledger, err := r.cachedLedger(ctx, ext)
	if err != nil {
		return err
	}
	if plan != nil && plan.Spec.Storage == nil && !hasLiveVolumes(ledger) {
		return nil
	}
	vols, err := r.Fly.ListVolumes(ctx, app)
	if err != nil {
		return fmt.Errorf("list volumes of %s before deleting it: %w", app, err)
	}
	return r.meterVolumes(ctx, ext, plan, vols, r.Settings.Billing.Now(), true)
}

// volumeListDue reports whether a live volume of the ledger is bound to
// none of the extension's machines (so no look proves it) and has not been
// seen since the UTC day began: the day before cannot close without it.
func volumeListDue(ledger *jetwayv1.UsageLedger, ext *jetwayv1.Extension, now time.Time) bool {
	if ledger == nil {
		return false
	}
	bound := map[string]bool{}
	for _, m := range ext.Status.Machines {
		bound[m.ID] = true
	}
	dayStart := billing.StartOf(billing.DateOf(now))
	for i := range ledger.Spec.Volumes {
		vu := &ledger.Spec.Volumes[i]
		if vu.GoneAt != nil || (vu.Machine != "" && bound[vu.Machine]) {
			continue
		}
		if vu.ProvenThrough == nil || vu.ProvenThrough.Time.Before(dayStart) {
			return true
		}
	}
	return false
}

func hasLiveVolumes(ledger *jetwayv1.UsageLedger) bool {
	if ledger == nil {
		return false
	}
	for _, vu := range ledger.Spec.Volumes {
		if vu.GoneAt == nil {
			return true
		}
	}
	return false
}

// cachedLedger is the extension's ledger as the cache has it; nil when it
// has none yet.
func (r *Reconciler) cachedLedger(ctx context.Context, ext *jetwayv1.Extension) (*jetwayv1.UsageLedger, error) {
	ledger := &jetwayv1.UsageLedger{}
	key := client.ObjectKey{Namespace: ext.Namespace, Name: domain.UsageLedgerName(ext.Spec.ID)}
	if err := r.Get(ctx, key, ledger); err != nil {
		if client.IgnoreNotFound(err) == nil {
			return nil, nil
		}
		return nil, fmt.Errorf("read usage ledger %s: %w", key.Name, err)
	}
	return ledger, nil
}

// volumePrice is the plan's price of a GB-hour of volume; nil when the
// plan cannot be read (see billing.VolumeObservation), 0 when it is in
// another currency than the provider bills in (see pricer).
func (r *Reconciler) volumePrice(plan *jetwayv1.ExtensionPlan) *int64 {
	if plan == nil {
		return nil
	}
	price := int64(0)
	if r.billsInCurrencyOf(plan) {
		price = plan.Spec.Pricing.VolumeGBHourMicros
	}
	return &price
}
