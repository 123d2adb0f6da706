package billing

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
)

// Prune drops everything before the UTC day openFrom from the ledger, once
// the days before it are published: segments and gaps end there, or start
// there if they cross it. A running machine keeps its open segment, empty
// if need be, so that the next look extends it from that day's start. It
// reports whether the ledger changed.
func Prune(ledger *jetwayv1.UsageLedgerSpec, openFrom string) bool {
	if openFrom <= ledger.OpenFrom {
		return false
	}
	cut := StartOf(openFrom)
	ledger.OpenFrom = openFrom
	machines := ledger.Machines[:0]
	for _, mu := range ledger.Machines {
		open := openSegment(&mu)
		var segs []jetwayv1.UsageSegment
		for i, seg := range mu.Segments {
			isOpen := open != nil && i == len(mu.Segments)-1
			if !seg.To.After(cut) && !isOpen {
				continue
			}
			seg.From = metav1.NewMicroTime(maxTime(seg.From.Time, cut))
			seg.To = metav1.NewMicroTime(maxTime(seg.To.Time, seg.From.Time))
			segs = append(segs, seg)
		}
		mu.Segments = segs
		var gaps []jetwayv1.UsageGap
		for _, g := range mu.Gaps {
			if g.To.After(cut) {
				g.From = metav1.NewMicroTime(maxTime(g.From.Time, cut))
				gaps = append(gaps, g)
			}
		}
		mu.Gaps = gaps
		// A machine gone before the cut has nothing left to say.
		if mu.GoneAt != nil && !mu.GoneAt.After(cut) && len(segs) == 0 && len(gaps) == 0 {
			continue
		}
		machines = append(machines, mu)
	}
	ledger.Machines = machines
	ledger.Volumes = pruneVolumes(ledger.Volumes, cut)
	return true
}

// pruneVolumes is Prune for volumes. A live volume keeps its last segment,
// empty if need be, for the next sighting to extend from the cut.
func pruneVolumes(in []jetwayv1.VolumeUsage, cut time.Time) []jetwayv1.VolumeUsage {
	out := in[:0]
	for _, vu := range in {
		var segs []jetwayv1.VolumeSegment
		for i, seg := range vu.Segments {
			isOpen := vu.GoneAt == nil && i == len(vu.Segments)-1
			if !seg.To.After(cut) && !isOpen {
				continue
			}
			seg.From = metav1.NewMicroTime(maxTime(seg.From.Time, cut))
			seg.To = metav1.NewMicroTime(maxTime(seg.To.Time, seg.From.Time))
			segs = append(segs, seg)
		}
		vu.Segments = segs
		if vu.GoneAt != nil && !vu.GoneAt.After(cut) && len(segs) == 0 {
			continue
		}
		out = append(out, vu)
	}
	return out
}

// ProvenThrough is how far every machine and volume of the ledger is
// known: the earliest provenThrough of its machines and volumes still on
// Fly. A ledger with neither is proven through asOf.
func ProvenThrough(ledger *jetwayv1.UsageLedgerSpec, asOf time.Time) time.Time {
	through := asOf
	for i := range ledger.Machines {
		mu := &ledger.Machines[i]
		if mu.GoneAt != nil {
			continue
		}
		if p := provenThrough(mu); p.Before(through) {
			through = p
		}
	}
	for i := range ledger.Volumes {
		vu := &ledger.Volumes[i]
		if vu.GoneAt != nil {
			continue
		}
		if p := volumeProvenThrough(vu); p.Before(through) {
			through = p
		}
	}
	return through
}
