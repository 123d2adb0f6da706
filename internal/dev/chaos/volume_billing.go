package chaos

import (
	"context"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
	"github.com/jetway-dev/jetway/internal/billing"
	"github.com/jetway-dev/jetway/internal/dev/flysim"
)

// The volume billing invariant: what the meter recorded for every volume
// and day, up to the volume's last proof, is how long flysim's log says
// it existed (a second of rounding allowed per create and destroy), at the
// size it had; and no live volume is unmetered.
const invVolumesBilled = "volume-days billed other than flysim's volumes existed"

// VolumeBillingFigures are what the volume billing check compared.
type VolumeBillingFigures struct {
	// Made and Live count the volumes flysim ever made, and those left.
	Made, Live int
	// Days is how many (volume, day) pairs were compared.
	Days int
	// Billed and Existed are the metered and the true time over the
	// compared windows (each volume's day up to its last proof), and
	// BilledGBHours and ExistedGBHours the same times its size.
	Billed, Existed               time.Duration
	BilledGBHours, ExistedGBHours float64
	// MaxDrift is the largest |billed − existed| of one volume-day.
	MaxDrift time.Duration
	// AfterLastProof is time volumes existed after the meter's last proof
	// of them: after Jetway asked to destroy them, before Fly did.
	AfterLastProof time.Duration
	// NeverMetered is time volumes no ledger names existed (in orphaned
	// apps the sweeper removed).
	NeverMetered time.Duration
}

// checkVolumesBilled compares every ledger's volumes with flysim's log.
func checkVolumesBilled(ctx context.Context, c client.Reader, sim *flysim.Server, fig *VolumeBillingFigures) findings {
	f := findings{}
	var ledgers jetwayv1.UsageLedgerList
	if err := c.List(ctx, &ledgers); err != nil {
		f.add(invVolumesBilled, "list usage ledgers: %v", err)
		return f
	}
	now := time.Now()
	metered := map[string]bool{}
	for i := range ledgers.Items {
		l := &ledgers.Items[i]
		if l.Spec.OrganizationID == historyOrg {
			continue
		}
		for j := range l.Spec.Volumes {
			vu := &l.Spec.Volumes[j]
			metered[vu.ID] = true
			checkVolumeDays(f, l, vu, sim, fig)
			if vu.GoneAt != nil && vu.ProvenThrough != nil {
				fig.AfterLastProof += total(sim.VolumeTime(vu.ID, vu.ProvenThrough.Time, now))
			}
		}
	}
	for _, v := range sim.AllVolumes() {
		fig.Made++
		existed := total(sim.VolumeTime(v.ID, time.Time{}, now))
		if v.State == "created" {
			fig.Live++
		}
		if metered[v.ID] {
			continue
		}
		if v.State == "created" && existed > time.Second {
			f.add(invVolumesBilled, "volume %s (%s in %s) of app %s has existed %s and is live, but no ledger meters it",
				v.ID, v.Name, v.Region, v.App, existed.Round(time.Millisecond))
		}
		fig.NeverMetered += existed
	}
	return f
}

// checkVolumeDays compares one volume's metered days with the truth.
func checkVolumeDays(f findings, l *jetwayv1.UsageLedger, vu *jetwayv1.VolumeUsage, sim *flysim.Server, fig *VolumeBillingFigures) {
	if vu.ProvenThrough == nil {
		return
	}
	proven := vu.ProvenThrough.Time
	history := sim.VolumeHistory(vu.ID)
	for day := l.Spec.OpenFrom; billing.StartOf(day).Before(proven); day = billing.NextDate(day) {
		from := billing.StartOf(day)
		to := earliest(from.Add(billing.Day), proven)
		var billed time.Duration
		var billedGBHours float64
		for _, s := range vu.Segments {
			d := billing.Overlap(s.From.Time, s.To.Time, from, to)
			billed += d
			billedGBHours += float64(s.SizeGB) * d.Hours()
		}
		bySize := sim.VolumeTime(vu.ID, from, to)
		existed, existedGBHours := total(bySize), 0.0
		for gb, d := range bySize {
			existedGBHours += float64(gb) * d.Hours()
		}
		changes := 0
		for _, c := range history {
			if !c.At.Before(from) && c.At.Before(to) {
				changes++
			}
		}
		slack := time.Duration(changes+1) * time.Second
		fig.Days++
		fig.Billed += billed
		fig.Existed += existed
		fig.BilledGBHours += billedGBHours
		fig.ExistedGBHours += existedGBHours
		fig.MaxDrift = max(fig.MaxDrift, billed-existed, existed-billed)
		// No volume is extended in the run, so its GB-time is its time
		// times its one size: a wrong size shows beyond the slack.
		gbSlack := float64(maxSize(bySize, vu)) * slack.Hours()
		if billed > existed+slack || existed > billed+slack ||
			billedGBHours > existedGBHours+gbSlack || existedGBHours > billedGBHours+gbSlack {
			f.add(invVolumesBilled, "volume %s (ledger %s/%s) on %s to %s: billed %s (%.4f GB-h), flysim says it existed %s (%.4f GB-h; ±%s allowed)",
				vu.ID, l.Namespace, l.Name, day, to.Format(time.RFC3339), billed, billedGBHours, existed, existedGBHours, slack)
		}
	}
}

func total(bySize map[int]time.Duration) time.Duration {
	var t time.Duration
	for _, d := range bySize {
		t += d
	}
	return t
}

// maxSize is the largest size the volume had in either record.
func maxSize(bySize map[int]time.Duration, vu *jetwayv1.VolumeUsage) int {
	n := 0
	for gb := range bySize {
		n = max(n, gb)
	}
	for _, s := range vu.Segments {
		n = max(n, int(s.SizeGB))
	}
	return n
}
