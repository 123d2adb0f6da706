package extension

import (
	"sort"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
	"github.com/jetway-dev/jetway/internal/fly"
)

// machineSetPlan is what it takes to turn the machines Fly has into the
// machines the spec wants.
type machineSetPlan struct {
	// keep maps each desired machine that exists to the machine chosen for it.
	keep map[jetwayv1.MachineKey]*fly.Machine
	// create lists desired machines that do not exist, in desired order.
	create []jetwayv1.MachineKey
	// update lists kept machines whose config drifted from the desired one.
	update []*fly.Machine
	// destroy lists machines that are extra: duplicates of a kept machine
	// (an ambiguous create that was retried) or for a key no longer desired.
	destroy []*fly.Machine
}

// planMachineSet diffs desired against actual. known is the set of machine
// ids already in status: among duplicates for one key the known one is
// kept, then the oldest, so repeated passes converge on the same choice.
// wantHash gives the desired config hash of a key.
func planMachineSet(desired []jetwayv1.MachineKey, actual []*fly.Machine, known map[string]bool, wantHash func(jetwayv1.MachineKey) string, wantImage string) machineSetPlan {
	byKey := map[jetwayv1.MachineKey][]*fly.Machine{}
	for _, m := range actual {
		if !m.IsActive() {
			continue
		}
		byKey[keyOf(m)] = append(byKey[keyOf(m)], m)
	}
	p := machineSetPlan{keep: map[jetwayv1.MachineKey]*fly.Machine{}}
	wanted := map[jetwayv1.MachineKey]bool{}
	for _, k := range desired {
		wanted[k] = true
		candidates := byKey[k]
		if len(candidates) == 0 {
			p.create = append(p.create, k)
			continue
		}
		sortKeepFirst(candidates, known)
		chosen := candidates[0]
		p.keep[k] = chosen
		p.destroy = append(p.destroy, candidates[1:]...)
		if drifted(chosen, wantHash(k), wantImage) {
			p.update = append(p.update, chosen)
		}
	}
	var extraKeys []jetwayv1.MachineKey
	for k := range byKey {
		if !wanted[k] {
			extraKeys = append(extraKeys, k)
		}
	}
	sort.Slice(extraKeys, func(i, j int) bool { return extraKeys[i].String() < extraKeys[j].String() })
	for _, k := range extraKeys {
		p.destroy = append(p.destroy, byKey[k]...)
	}
	return p
}

// keyOf reads a machine's role and region from its ownership metadata.
func keyOf(m *fly.Machine) jetwayv1.MachineKey {
	if m.Config == nil {
		return jetwayv1.MachineKey{}
	}
	return jetwayv1.MachineKey{Role: m.Config.Metadata[fly.MetaRole], Region: m.Config.Metadata[fly.MetaRegion]}
}

// drifted reports a machine whose config is not the desired one: either
// Jetway's desired config changed (hash), or someone changed the image
// behind Jetway's back.
func drifted(m *fly.Machine, wantHash, wantImage string) bool {
	if m.Config == nil {
		return true
	}
	return m.Config.Metadata[fly.MetaConfigHash] != wantHash || m.Config.Image != wantImage
}
