package chaos

import (
	"context"
	"fmt"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
	"github.com/jetway-dev/jetway/internal/billing"
	"github.com/jetway-dev/jetway/internal/dev/flysim"
)

// The billing invariants: what the meter recorded for every machine and
// day is what flysim's uncapped state log says ran, whatever the SIGKILLs
// did to the passes that recorded it (a second of rounding allowed per
// state change, and a rolled-off interval may only bill less, by at most
// its length); and a published day never changes.
const (
	invBilled     = "machine-days billed other than flysim ran"
	invClosedDays = "published billing days wrong or changed"
)

// BillingFigures are what the billing check compared.
type BillingFigures struct {
	// MachineDays is how many (machine, day) pairs were compared.
	MachineDays int
	// Billed and Ran are the metered and the true running time over the
	// compared windows (each machine's day up to its last proof).
	Billed, Ran time.Duration
	// MaxDrift is the largest |billed − ran| of one machine-day.
	MaxDrift time.Duration
	// Unproven is time inside gaps (events rolled off unread).
	Unproven time.Duration
	// AfterLastProof is running time of destroyed machines between their
	// last metered look and their stop: not billed, by the conservative rule.
	AfterLastProof time.Duration
	// NeverMetered is running time of destroyed machines no ledger names
	// (e.g. in orphaned apps the sweeper removed).
	NeverMetered time.Duration
	// PublishedDays are the BillingDays that existed when the crash loop
	// ended, each compared with itself after convergence.
	PublishedDays int
	// Volumes is what the volume billing check compared (volume_billing.go).
	Volumes VolumeBillingFigures
}

// closedDays is a snapshot of every published BillingDay.
type closedDays map[client.ObjectKey]*jetwayv1.BillingDay

func snapshotClosedDays(ctx context.Context, c client.Reader) (closedDays, error) {
	var list jetwayv1.BillingDayList
	if err := c.List(ctx, &list); err != nil {
		return nil, fmt.Errorf("list billing days: %w", err)
	}
	out := closedDays{}
	for i := range list.Items {
		out[client.ObjectKeyFromObject(&list.Items[i])] = &list.Items[i]
	}
	return out, nil
}

// checkClosedDays checks that every day published by the end of the crash
// loop is still there, unchanged, and that the seeded history day was
// published exactly as its ledger says.
func checkClosedDays(ctx context.Context, c client.Reader, before closedDays, historyDay string, fig *BillingFigures) findings {
	f := findings{}
	after, err := snapshotClosedDays(ctx, c)
	if err != nil {
		f.add(invClosedDays, "%v", err)
		return f
	}
	fig.PublishedDays = len(before)
	for key, was := range before {
		now := after[key]
		switch {
		case now == nil:
			f.add(invClosedDays, "%s was published and is gone", key)
		case now.ResourceVersion != was.ResourceVersion || now.Spec.TotalMicros != was.Spec.TotalMicros || len(now.Spec.Items) != len(was.Spec.Items):
			f.add(invClosedDays, "%s changed after it was published (resourceVersion %s → %s, total %d → %d)",
				key, was.ResourceVersion, now.ResourceVersion, was.Spec.TotalMicros, now.Spec.TotalMicros)
		}
	}
	key := client.ObjectKey{Namespace: historyNamespace(), Name: historyDay}
	bd := after[key]
	if bd == nil {
		f.add(invClosedDays, "the seeded history day %s was never published", key)
		return f
	}
	if len(bd.Spec.Items) != 1 || bd.Spec.Items[0].QuantitySeconds != historySeconds || bd.Spec.TotalMicros != historyMicros {
		f.add(invClosedDays, "the seeded history day %s was published as %d micros, items %+v; want one item of %d s, %d micros",
			key, bd.Spec.TotalMicros, bd.Spec.Items, historySeconds, historyMicros)
	}
	return f
}

// checkBilled compares every ledger's machines with flysim's truth, day by
// day up to each machine's last proof.
func checkBilled(ctx context.Context, c client.Reader, sim *flysim.Server, fig *BillingFigures) findings {
	f := findings{}
	var ledgers jetwayv1.UsageLedgerList
	if err := c.List(ctx, &ledgers); err != nil {
		f.add(invBilled, "list usage ledgers: %v", err)
		return f
	}
	metered := map[string]bool{}
	for i := range ledgers.Items {
		l := &ledgers.Items[i]
		if l.Spec.OrganizationID == historyOrg {
			continue
		}
		for j := range l.Spec.Machines {
			mu := &l.Spec.Machines[j]
			metered[mu.ID] = true
			checkMachine(f, l, mu, sim, fig)
		}
	}
	now := time.Now()
	for _, m := range sim.AllMachineIDs() {
		if metered[m.ID] {
			continue
		}
		ran := sim.RunningTime(m.ID, time.Time{}, now)
		if m.State != "destroyed" && ran > time.Second {
			f.add(invBilled, "machine %s of app %s ran %s and is live, but no ledger meters it", m.ID, m.App, ran.Round(time.Millisecond))
		}
		fig.NeverMetered += ran
	}
	return f
}

// checkMachine compares one machine's metered days with the truth.
func checkMachine(f findings, l *jetwayv1.UsageLedger, mu *jetwayv1.MachineUsage, sim *flysim.Server, fig *BillingFigures) {
	if mu.ProvenThrough == nil {
		return
	}
	proven := mu.ProvenThrough.Time
	history := sim.StateHistory(mu.ID)
	for day := l.Spec.OpenFrom; billing.StartOf(day).Before(proven); day = billing.NextDate(day) {
		from := billing.StartOf(day)
		to := earliest(from.Add(billing.Day), proven)
		var billed, unproven time.Duration
		for _, s := range mu.Segments {
			billed += billing.Overlap(s.From.Time, s.To.Time, from, to)
		}
		for _, g := range mu.Gaps {
			unproven += billing.Overlap(g.From.Time, g.To.Time, from, to)
		}
		ran := sim.RunningTime(mu.ID, from, to)
		slack := time.Duration(changesWithin(history, from, to)+1) * time.Second
		fig.MachineDays++
		fig.Billed += billed
		fig.Ran += ran
		fig.Unproven += unproven
		fig.MaxDrift = max(fig.MaxDrift, billed-ran, ran-billed)
		if billed > ran+slack || ran-billed > unproven+slack {
			f.add(invBilled, "machine %s (ledger %s/%s) on %s to %s: billed %s, flysim says it ran %s (±%s allowed, %s unproven)",
				mu.ID, l.Namespace, l.Name, day, to.Format(time.RFC3339), billed, ran, slack, unproven)
		}
	}
	if mu.GoneAt != nil {
		fig.AfterLastProof += sim.RunningTime(mu.ID, proven, time.Now())
	}
}

// changesWithin counts state changes into or out of started in [from, to).
func changesWithin(history []flysim.StateChange, from, to time.Time) int {
	n, prev := 0, ""
	for _, c := range history {
		if !c.At.Before(from) && c.At.Before(to) && (c.State == "started" || prev == "started") {
			n++
		}
		prev = c.State
	}
	return n
}

func earliest(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// checkBilling runs the billing checks: machines, volumes, closed days. The history day is waited for a
// while: the billing controller publishes it on its next pass.
func checkBilling(ctx context.Context, s *Stack, before closedDays, historyDay string, fig *BillingFigures) findings {
	key := client.ObjectKey{Namespace: historyNamespace(), Name: historyDay}
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(time.Second) {
		if err := s.K8s.Get(ctx, key, &jetwayv1.BillingDay{}); err == nil {
			break
		}
	}
	f := checkClosedDays(ctx, s.K8s, before, historyDay, fig)
	for inv, vs := range checkBilled(ctx, s.K8s, s.Sim, fig) {
		f[inv] = append(f[inv], vs...)
	}
	for inv, vs := range checkVolumesBilled(ctx, s.K8s, s.Sim, &fig.Volumes) {
		f[inv] = append(f[inv], vs...)
	}
	return f
}
