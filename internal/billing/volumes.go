package billing

import (
	"fmt"
	"time"

	flygo "github.com/superfly/fly-go"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
)

// A volume is charged for its size × the time it exists, from Fly's
// created_at until it is destroyed. A volume's life has no gaps (it cannot
// be destroyed and come back), so any sighting at t proves it existed from
// its creation to t: a list of the app's volumes, or a look at the machine
// it is bound to, since Fly refuses to destroy a volume bound to a machine.
// Fly keeps no record of a destroyed volume, so the end is what Jetway
// knows: when it asked Fly to destroy it, or for a volume that left the
// list without that, when it was last seen (never billed past that). The
// size is charged from when Jetway saw it change (or extended it itself).

// VolumeObservation is what Jetway saw of an extension's volumes at one
// moment.
type VolumeObservation struct {
	// Volumes are volumes of the extension's app, as Fly answered them.
	Volumes []flygo.Volume
	// At is when Fly answered, or when Jetway asked Fly to destroy them.
	At time.Time
	// Destroyed says Jetway is asking Fly, at At, to destroy Volumes (and
	// only those). Otherwise Volumes are every live volume of the app, as
	// listed at At: a metered volume missing from them is gone.
	Destroyed bool
	// GBHourPrice is the plan's price of a GB-hour now; nil when the plan
	// cannot be read: metered volumes keep their price, new ones get 0.
	GBHourPrice *int64
}

// MeterVolumes records what obs proves about the ledger's volumes and
// reports whether the ledger changed. Nothing before ledger.OpenFrom is
// recorded.
func MeterVolumes(ledger *jetwayv1.UsageLedgerSpec, obs VolumeObservation) bool {
	window := StartOf(ledger.OpenFrom)
	at := obs.At.UTC().Truncate(time.Millisecond) // Fly's grain, as for machines
	changed := false
	seen := map[string]bool{}
	for _, v := range obs.Volumes {
		if v.ID == "" || !volumeLive(v.State) {
			continue // on its way out: as good as not listed
		}
		seen[v.ID] = true
		vu := volumeUsage(ledger, v)
		before := vu.DeepCopy()
		sightVolume(vu, at, window, int32(v.SizeGb), obs.GBHourPrice)
		vu.Machine = ""
		if v.AttachedMachine != nil {
			vu.Machine = *v.AttachedMachine
		}
		if obs.Destroyed {
			t := metav1.NewMicroTime(at)
			vu.GoneAt = &t
		}
		if !equalVolume(before, vu) {
			changed = true
		}
	}
	if obs.Destroyed {
		return changed
	}
	for i := range ledger.Volumes {
		vu := &ledger.Volumes[i]
		if seen[vu.ID] || vu.GoneAt != nil {
			continue
		}
		// Gone from the list without Jetway destroying it: billed to when
		// it was last seen, which its segments already end at.
		t := metav1.NewMicroTime(at)
		vu.GoneAt = &t
		changed = true
	}
	return changed
}

// proveMountedVolumes records that each volume a listed machine is bound
// to existed at obs.At: a look at an extension's machines proves their
// volumes at no cost of its own. Only the time is proven; a size change is
// seen on the next list of the volumes.
func proveMountedVolumes(ledger *jetwayv1.UsageLedgerSpec, obs Observation) bool {
	changed := false
	for _, m := range obs.Machines {
		if m == nil || m.State == flygo.MachineStateDestroyed || m.Config == nil || len(m.Config.Mounts) == 0 {
			continue
		}
		vu := findVolume(ledger, m.Config.Mounts[0].Volume)
		if vu == nil || len(vu.Segments) == 0 {
			continue // not listed yet: its createdAt and size are unknown
		}
		before := vu.DeepCopy()
		last := vu.Segments[len(vu.Segments)-1]
		sightVolume(vu, obs.At, StartOf(ledger.OpenFrom), last.SizeGB, nil)
		vu.Machine = m.ID
		if !equalVolume(before, vu) {
			changed = true
		}
	}
	return changed
}

// sightVolume records that vu existed at at, sizeGB large: its last
// segment runs on to at, or ends there if the size or price changed, and a
// new one starts. A sighting after goneAt means it was not destroyed.
func sightVolume(vu *jetwayv1.VolumeUsage, at, window time.Time, sizeGB int32, price *int64) {
	vu.GoneAt = nil
	n := len(vu.Segments)
	if n == 0 {
		from := maxTime(vu.CreatedAt.Time, window)
		p := int64(0)
		if price != nil {
			p = *price
		}
		vu.Segments = append(vu.Segments, jetwayv1.VolumeSegment{
			From: metav1.NewMicroTime(from), To: metav1.NewMicroTime(maxTime(at, from)), SizeGB: sizeGB, UnitPriceMicrosPerGBHour: p})
	} else {
		last := &vu.Segments[n-1]
		if at.After(last.To.Time) {
			last.To = metav1.NewMicroTime(at)
		}
		if last.SizeGB != sizeGB || (price != nil && *price != last.UnitPriceMicrosPerGBHour) {
			p := last.UnitPriceMicrosPerGBHour
			if price != nil {
				p = *price
			}
			from := metav1.NewMicroTime(maxTime(last.To.Time, window))
			vu.Segments = append(vu.Segments, jetwayv1.VolumeSegment{From: from, To: from, SizeGB: sizeGB, UnitPriceMicrosPerGBHour: p})
		}
	}
	if vu.ProvenThrough == nil || at.After(vu.ProvenThrough.Time) {
		t := metav1.NewMicroTime(at)
		vu.ProvenThrough = &t
	}
}

// volumeUsage finds v's entry in the ledger, adding one for a volume not
// metered before.
func volumeUsage(ledger *jetwayv1.UsageLedgerSpec, v flygo.Volume) *jetwayv1.VolumeUsage {
	if vu := findVolume(ledger, v.ID); vu != nil {
		return vu
	}
	ledger.Volumes = append(ledger.Volumes, jetwayv1.VolumeUsage{
		ID: v.ID, Name: v.Name, Region: v.Region, CreatedAt: metav1.NewMicroTime(ceilMillisecond(v.CreatedAt.UTC())),
	})
	return &ledger.Volumes[len(ledger.Volumes)-1]
}

func findVolume(ledger *jetwayv1.UsageLedgerSpec, id string) *jetwayv1.VolumeUsage {
	if id == "" {
		return nil
	}
	for i := range ledger.Volumes {
		if ledger.Volumes[i].ID == id {
			return &ledger.Volumes[i]
		}
	}
	return nil
}

// volumeLive reports whether a listed volume's state is one it is used
// in. fly-go's list already leaves out the states of a volume on its way
// out (flaps' destroyedVolumeStates); a client that lists them is
// answered the same.
func volumeLive(state string) bool {
	switch state {
	case "destroyed", "destroying", "pending_destroy", "scheduling_destroy", "fork_cleanup", "waiting_for_detach":
		return false
	}
	return true
}

// VolumeSize is how a volume item names its size: "10GB".
func VolumeSize(sizeGB int32) string { return fmt.Sprintf("%dGB", sizeGB) }

// volumeProvenThrough is how far a volume's existence is known.
func volumeProvenThrough(vu *jetwayv1.VolumeUsage) time.Time {
	if vu.ProvenThrough == nil {
		return vu.CreatedAt.Time
	}
	return vu.ProvenThrough.Time
}

// ceilMillisecond rounds t up to Fly's millisecond grain: a volume is never
// billed from before Fly says it was made.
func ceilMillisecond(t time.Time) time.Time {
	if r := t.Truncate(time.Millisecond); !r.Equal(t) {
		return r.Add(time.Millisecond)
	}
	return t
}

func equalVolume(a, b *jetwayv1.VolumeUsage) bool { return equality.Semantic.DeepEqual(a, b) }
