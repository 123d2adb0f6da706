package extension

import (
	"context"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
	"github.com/jetway-dev/jetway/controllers/internal/extstatus"
	"github.com/jetway-dev/jetway/internal/billing"
	"github.com/jetway-dev/jetway/internal/domain"
	"github.com/jetway-dev/jetway/internal/fly"
)

// The meter rides on the looks the controller makes anyway: every list of
// an extension's machines carries each machine's recent Fly events, and
// what they prove goes into the extension's UsageLedger before anything is
// destroyed (Fly forgets destroyed machines). So metering costs no Fly
// call of its own, and a pass that dies after its list loses nothing the
// next pass's list does not show again. See docs/billing.md.

// ledgerRetries bounds how often a ledger write that lost a race (with the
// billing controller publishing a day) is recomputed on a fresh copy.
const ledgerRetries = 3

// meterUsage records what a list of the extension's machines, answered at
// observedAt, proves about their running time (and the existence of the
// volumes they are bound to). complete says the list is every live machine
// of the extension.
func (r *Reconciler) meterUsage(ctx context.Context, ext *jetwayv1.Extension, plan *jetwayv1.ExtensionPlan, machines []*fly.Machine, observedAt time.Time, complete bool) error {
	obs := billing.Observation{Machines: machines, At: observedAt, Complete: complete, Price: r.pricer(plan)}
	return r.editLedger(ctx, ext, observedAt, func(ledger *jetwayv1.UsageLedgerSpec) bool {
		changed, gaps := billing.Meter(ledger, obs)
		for _, g := range gaps {
			log.FromContext(ctx).Info("Machine events rolled off Fly's list before they were metered; that time is not billed",
				"machine", g.MachineID, "from", g.From, "to", g.To)
		}
		markUsageProven(ext, ledger)
		return changed
	})
}

// editLedger applies edit to the extension's ledger, made if it has none
// yet, and writes it if edit reports a change. A write that lost a race
// (with the billing controller publishing a day) is recomputed on the
// stored ledger, so edit may run more than once.
func (r *Reconciler) editLedger(ctx context.Context, ext *jetwayv1.Extension, observedAt time.Time, edit func(*jetwayv1.UsageLedgerSpec) bool) error {
	key := client.ObjectKey{Namespace: ext.Namespace, Name: domain.UsageLedgerName(ext.Spec.ID)}
	var reader client.Reader = r.Client
	for attempt := 0; ; attempt++ {
		ledger := &jetwayv1.UsageLedger{}
		err := reader.Get(ctx, key, ledger)
		create := apierrors.IsNotFound(err)
		switch {
		case create:
			ledger = r.newLedger(ext, key, observedAt)
		case err != nil:
			return fmt.Errorf("read usage ledger %s: %w", key.Name, err)
		}
		changed := edit(&ledger.Spec)
		if ledger.Spec.ExtensionName != ext.Spec.Name {
			ledger.Spec.ExtensionName, changed = ext.Spec.Name, true
		}
		if !changed && !create {
			return nil
		}
		if create {
			err = r.Create(ctx, ledger)
		} else {
			err = r.Update(ctx, ledger)
		}
		if err == nil {
			return nil
		}
		if (apierrors.IsConflict(err) || apierrors.IsAlreadyExists(err)) && attempt < ledgerRetries {
			reader = r.APIReader // the cache is behind: recompute on the stored ledger
			continue
		}
		return fmt.Errorf("write usage ledger %s: %w", key.Name, err)
	}
}

// newLedger starts an extension's ledger. It opens on the day the extension
// was created, so that machines that start just before midnight and are
// first seen just after are billed to the right day; an extension older
// than yesterday when first metered (Jetway upgraded to metering) is
// metered from the day of that first look.
func (r *Reconciler) newLedger(ext *jetwayv1.Extension, key client.ObjectKey, observedAt time.Time) *jetwayv1.UsageLedger {
	openFrom := billing.DateOf(ext.CreationTimestamp.Time)
	if today := billing.DateOf(observedAt); openFrom < billing.DateOf(observedAt.Add(-billing.Day)) {
		openFrom = today
	}
	return &jetwayv1.UsageLedger{
		ObjectMeta: metav1.ObjectMeta{Name: key.Name, Namespace: key.Namespace, Labels: map[string]string{
			jetwayv1.LabelManagedBy: jetwayv1.ManagedByJetway,
		}},
		Spec: jetwayv1.UsageLedgerSpec{
			ExtensionID:    ext.Spec.ID,
			ExtensionName:  ext.Spec.Name,
			OrganizationID: ext.Spec.Organization.ID,
			OpenFrom:       openFrom,
		},
	}
}

// pricer prices a size by the extension's plan now; nil when the plan
// cannot be read, so that running segments keep the price they had (see
// billing.Observation). A plan in another currency than the provider bills
// in is not priced: summing two currencies would be wrong, and refusing to
// meter would lose usage.
func (r *Reconciler) pricer(plan *jetwayv1.ExtensionPlan) billing.Pricer {
	if plan == nil {
		return nil
	}
	return func(size string) int64 {
		if !r.billsInCurrencyOf(plan) {
			return 0
		}
		return plan.Spec.Pricing.MachineHourPrice(size)
	}
}

// billsInCurrencyOf reports whether the plan's prices are in the currency
// the provider bills in.
func (r *Reconciler) billsInCurrencyOf(plan *jetwayv1.ExtensionPlan) bool {
	return plan.Spec.Pricing.Currency == "" || r.Settings.Billing.Currency == "" ||
		plan.Spec.Pricing.Currency == r.Settings.Billing.Currency
}

// markUsageProven says whether every machine second of the ledger's open
// days is proven either way by Fly's history.
func markUsageProven(ext *jetwayv1.Extension, ledger *jetwayv1.UsageLedgerSpec) {
	var gaps int
	var last jetwayv1.UsageGap
	var machine string
	for _, mu := range ledger.Machines {
		for _, g := range mu.Gaps {
			gaps++
			if g.To.After(last.To.Time) {
				last, machine = g, mu.ID
			}
		}
	}
	if gaps == 0 {
		extstatus.MarkTrue(ext, jetwayv1.ConditionUsageProven, jetwayv1.ReasonEventsMetered,
			"Fly's machine events prove all machine time since %s", ledger.OpenFrom)
		return
	}
	extstatus.MarkFalse(ext, jetwayv1.ConditionUsageProven, jetwayv1.ReasonEventsRolledOff,
		"%d interval(s) of machine time since %s are not billed: Fly no longer listed their events when they were read (latest: machine %s, %s to %s)",
		gaps, ledger.OpenFrom, machine, last.From.UTC().Format(time.RFC3339), last.To.UTC().Format(time.RFC3339))
}

// closeLedger records that the extension's app is gone from Fly: its
// machines' and volumes' usage is final as last metered, and the ledger goes once the
// billing controller has published its last day.
func (r *Reconciler) closeLedger(ctx context.Context, ext *jetwayv1.Extension) error {
	key := client.ObjectKey{Namespace: ext.Namespace, Name: domain.UsageLedgerName(ext.Spec.ID)}
	var reader client.Reader = r.Client
	for attempt := 0; ; attempt++ {
		ledger := &jetwayv1.UsageLedger{}
		if err := reader.Get(ctx, key, ledger); err != nil {
			return client.IgnoreNotFound(err)
		}
		if ledger.Spec.DeletedAt != nil {
			return nil
		}
		now := metav1.NewMicroTime(r.Settings.Billing.Now().Truncate(time.Millisecond))
		ledger.Spec.DeletedAt = &now
		for i := range ledger.Spec.Machines {
			if ledger.Spec.Machines[i].GoneAt == nil {
				ledger.Spec.Machines[i].GoneAt = &now
			}
		}
		// Volumes went with the app; deleteApp recorded when it asked.
		for i := range ledger.Spec.Volumes {
			if ledger.Spec.Volumes[i].GoneAt == nil {
				ledger.Spec.Volumes[i].GoneAt = &now
			}
		}
		err := r.Update(ctx, ledger)
		if apierrors.IsConflict(err) && attempt < ledgerRetries {
			reader = r.APIReader
			continue
		}
		if err != nil {
			return fmt.Errorf("close usage ledger %s: %w", key.Name, err)
		}
		return nil
	}
}
