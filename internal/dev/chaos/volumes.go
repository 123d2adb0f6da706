package chaos

import (
	"fmt"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
	"github.com/jetway-dev/jetway/internal/fly"
)

// The chaos run's plans give every machine a Fly volume (stack.go), so the
// SIGKILLs land between volume creates, machine creates and app deletions.
// After convergence every volume on Fly must be in the app of a live
// extension, bound to one of that extension's desired machines, and one
// per machine key; every machine of a plan with storage must mount one.
const (
	invOrphanVolumes    = "orphaned volumes (no live extension, or bound to none of its machines)"
	invVolumeDuplicates = "duplicate volumes per (app, name)"
)

// The chaos plans' storage (stack.go).
const (
	chaosVolumeGB          = 1
	chaosVolumeMount       = "/data"
	chaosVolumeGBHourPrice = 150
)

// checkVolumeState checks the volume invariants on every Fly app. They
// are apart from checkState's so that volumes, which another loop may
// clean up later, do not hold back the check of what Fly sees (converge.go).
func checkVolumeState(model []*extension, o *observation) findings {
	f := findings{}
	live := map[string]*extension{}
	unsure := map[string]bool{}
	for _, e := range model {
		app := appNameOf(e)
		switch {
		case e.Undelivered != "":
			unsure[app] = true
		case e.Created && !e.Deleted:
			live[app] = e
		}
	}
	for _, name := range sortedKeys(o.apps) {
		checkVolumes(f, name, o.apps[name], live[name], unsure[name])
	}
	return f
}

// liveVolumes are the volumes of an app still in use: created, not on their
// way out (pending_destroy lasts a moment before the volume is gone).
func liveVolumes(a *flyApp) []fly.Volume {
	var out []fly.Volume
	for _, v := range a.volumes {
		if v.State == "created" {
			out = append(out, v)
		}
	}
	return out
}

// checkVolumes finds the volumes of one Fly app that have no reason to
// exist. e is the live extension the app belongs to, if any.
func checkVolumes(f findings, name string, a *flyApp, e *extension, unsure bool) {
	perName := map[string]int{}
	for _, v := range liveVolumes(a) {
		key := v.Name + "@" + v.Region
		if perName[key]++; perName[key] > 1 {
			f.add(invVolumeDuplicates, "app %s: volume %s is number %d named %s in %s (%s)", name, v.ID, perName[key], v.Name, v.Region, bound(v))
		}
	}
	if unsure {
		return
	}
	mounters := map[string]fly.Machine{}
	if e != nil {
		desired := map[jetwayv1.MachineKey]bool{}
		for _, k := range e.desired() {
			desired[k] = true
		}
		for _, m := range a.machines {
			if metaOf(m, fly.MetaExtension) == e.ID && desired[keyOfMachine(m)] {
				mounters[m.ID] = m
			}
		}
	}
	for _, v := range liveVolumes(a) {
		switch {
		case e == nil:
			f.add(invOrphanVolumes, "volume %s (%s in %s, %s) in app %s of no live extension", v.ID, v.Name, v.Region, bound(v), name)
		case v.AttachedMachine == nil:
			f.add(invOrphanVolumes, "volume %s (%s in %s) in app %s of %s is bound to no machine", v.ID, v.Name, v.Region, name, e.ID)
		default:
			if _, ok := mounters[*v.AttachedMachine]; !ok {
				f.add(invOrphanVolumes, "volume %s (%s in %s) in app %s of %s is bound to %s, not one of its desired machines",
					v.ID, v.Name, v.Region, name, e.ID, *v.AttachedMachine)
			}
		}
	}
}

// mountProblems lists the machines of a live extension on a plan with
// storage that mount no live volume of their app in their region.
func mountProblems(a *flyApp, machines []fly.Machine) []string {
	live := map[string]fly.Volume{}
	for _, v := range liveVolumes(a) {
		live[v.ID] = v
	}
	var p []string
	for _, m := range machines {
		id := ""
		if m.Config != nil && len(m.Config.Mounts) > 0 {
			id = m.Config.Mounts[0].Volume
		}
		if v, ok := live[id]; !ok || v.Region != m.Region {
			p = append(p, fmt.Sprintf("machine %s (%s) mounts no live volume of its region (mount %q)", m.ID, keyOfMachine(m), id))
		}
	}
	return p
}

func bound(v fly.Volume) string {
	if v.AttachedMachine == nil {
		return "unbound"
	}
	return "bound to " + *v.AttachedMachine
}
