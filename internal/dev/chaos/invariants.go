package chaos

import (
	"fmt"
	"slices"
	"strings"

	flygo "github.com/superfly/fly-go"
	"k8s.io/apimachinery/pkg/api/meta"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
	"github.com/jetway-dev/jetway/internal/domain"
	"github.com/jetway-dev/jetway/internal/fly"
)

// The invariants, in report order. Each counts offending objects.
const (
	invReady         = "live extensions not Ready with exactly their machines"
	invOrphanApps    = "orphaned apps"
	invOrphanMach    = "orphaned machines"
	invOrphanIPs     = "orphaned IPs"
	invDuplicates    = "duplicate machines per (app, role, region)"
	invFinalizers    = "finalizers stuck (deletionTimestamp set)"
	invDeletedAlive  = "deleted extensions still live"
	invFlyStatus     = "Fly-visible status not ready/error/gone"
	invAnswers       = "unexpected gateway answers, undelivered calls"
	invManagerExits  = "manager exits not caused by SIGKILL"
	maxDetailsPerInv = 20
)

// The credentials Fly is given must be the ones the machines run with: the
// app secret the controllers set (controllers/app.go) and the default
// plan's connection URL (config/samples), which carries the password.
const (
	appSecretPassword = "JETWAY_PASSWORD"
	connectionKey     = "LOGJAM_URL"
)

var invariantOrder = []string{invReady, invOrphanApps, invOrphanMach, invOrphanIPs, invDuplicates,
	invOrphanVolumes, invVolumeDuplicates, invFinalizers, invDeletedAlive, invFlyStatus, invAnswers, invManagerExits,
	invBilled, invVolumesBilled, invClosedDays}

// findings collects violations by invariant.
type findings map[string][]string

func (f findings) add(inv, format string, args ...any) {
	f[inv] = append(f[inv], fmt.Sprintf(format, args...))
}

func (f findings) total() int {
	n := 0
	for _, v := range f {
		n += len(v)
	}
	return n
}

// checkState checks the invariants that need no gateway call, comparing
// the model (what Fly was told) against both sides.
func checkState(model []*extension, o *observation) findings {
	f := findings{}
	live := map[string]*extension{}  // app name → live extension
	owner := map[string]*extension{} // app name → any extension of the run
	unsure := map[string]bool{}      // apps of extensions whose last call got no answer
	for _, e := range model {
		app := appNameOf(e)
		owner[app] = e
		if e.Undelivered != "" {
			unsure[app] = true
			continue
		}
		if !e.Created {
			continue
		}
		k := o.exts[e.ID]
		if e.Deleted {
			if k != nil && k.DeletionTimestamp.IsZero() {
				f.add(invDeletedAlive, "%s (%s/%s): DELETE was accepted but the Extension has no deletionTimestamp", e.ID, k.Namespace, k.Name)
			}
			continue
		}
		live[app] = e
		if problems := liveProblems(e, k, o, app); len(problems) > 0 {
			where := "no Extension"
			if k != nil {
				where = k.Namespace + "/" + k.Name
			}
			f.add(invReady, "%s (%s, app %s): %s", e.ID, where, app, strings.Join(problems, "; "))
		}
	}
	for _, k := range o.exts {
		if !k.DeletionTimestamp.IsZero() {
			f.add(invFinalizers, "%s (%s/%s): deleting since %s, finalizers %v, status %q: %s", k.Spec.ID, k.Namespace, k.Name,
				k.DeletionTimestamp.UTC().Format("15:04:05"), k.Finalizers, k.Status.Phase, conditionMessage(k, jetwayv1.ConditionReconciling))
		}
	}
	for _, name := range sortedKeys(o.apps) {
		checkApp(f, name, o.apps[name], live[name], owner[name], unsure[name], o.retained[name])
	}
	return f
}

// liveProblems lists why a live extension is not in its desired state.
func liveProblems(e *extension, k *jetwayv1.Extension, o *observation, app string) []string {
	var p []string
	if k == nil {
		return []string{"the Extension does not exist"}
	}
	if !k.DeletionTimestamp.IsZero() {
		p = append(p, "being deleted although Fly never deleted it")
	}
	if !slices.Equal(k.Spec.ReadRegions, e.ReadRegions) && (len(k.Spec.ReadRegions) != 0 || len(e.ReadRegions) != 0) {
		p = append(p, fmt.Sprintf("spec.readRegions %v, Fly last asked for %v", k.Spec.ReadRegions, e.ReadRegions))
	}
	if k.Spec.Plan != planOrDefault(e.Plan) {
		p = append(p, fmt.Sprintf("spec.plan %q, Fly last asked for %q", k.Spec.Plan, planOrDefault(e.Plan)))
	}
	ready := meta.FindStatusCondition(k.Status.Conditions, jetwayv1.ConditionReady)
	switch {
	case ready == nil || ready.Status != "True":
		p = append(p, fmt.Sprintf("not Ready (phase %q): %s", k.Status.Phase, conditionMessage(k, jetwayv1.ConditionReady)))
	case k.Status.ObservedGeneration != k.Generation:
		p = append(p, fmt.Sprintf("Ready for generation %d, spec is at %d", k.Status.ObservedGeneration, k.Generation))
	}
	a := o.apps[app]
	if a == nil {
		return append(p, "its Fly app does not exist")
	}
	if pw := a.secrets[appSecretPassword]; pw == "" || !strings.Contains(e.Config[connectionKey], ":"+pw+"@") {
		p = append(p, fmt.Sprintf("the password in the app's %s secret is not the one in the %s Fly was given", appSecretPassword, connectionKey))
	}
	image := o.images[planOrDefault(e.Plan)]
	byKey := map[jetwayv1.MachineKey][]fly.Machine{}
	for _, m := range a.machines {
		if metaOf(m, fly.MetaExtension) == e.ID {
			byKey[keyOfMachine(m)] = append(byKey[keyOfMachine(m)], m)
		}
	}
	if o.storage[planOrDefault(e.Plan)] {
		var wanted []fly.Machine
		for _, k := range e.desired() {
			wanted = append(wanted, byKey[k]...)
		}
		p = append(p, mountProblems(a, wanted)...)
	}
	for _, want := range e.desired() {
		ms := byKey[want]
		if len(ms) == 0 {
			p = append(p, "no machine for "+want.String())
			continue
		}
		for _, m := range ms {
			if m.State != flygo.MachineStateStarted {
				p = append(p, fmt.Sprintf("machine %s (%s) is %s", m.ID, want, m.State))
			}
			if m.Config == nil || m.Config.Image != image {
				p = append(p, fmt.Sprintf("machine %s (%s) runs %q, plan %s wants %q", m.ID, want, imageOf(m), planOrDefault(e.Plan), image))
			}
		}
	}
	return p
}

// checkApp finds what on one Fly app has no reason to exist. e is the live
// extension the app belongs to, if any; owner the run's extension it was
// made for, if any.
// retained is the app's retention record, if a deprovisioned extension
// keeps it for its final snapshots: then it must be empty, with every
// volume snapshotted (docs/storage.md).
func checkApp(f findings, name string, a *flyApp, e, owner *extension, unsure bool, retained *domain.Retention) {
	perKey := map[jetwayv1.MachineKey]int{}
	for _, m := range a.machines {
		if k := keyOfMachine(m); metaOf(m, fly.MetaExtension) != "" {
			if perKey[k]++; perKey[k] > 1 {
				f.add(invDuplicates, "app %s: machine %s (%s) is number %d for %s", name, m.ID, m.State, perKey[k], k)
			}
		}
	}
	if unsure {
		return
	}
	if e == nil && retained != nil {
		for _, m := range a.machines {
			f.add(invOrphanMach, "machine %s (%s, %s) in app %s, retained for its snapshots", m.ID, keyOfMachine(m), m.State, name)
		}
		for _, v := range a.volumes {
			f.add(invOrphanVolumes, "volume %s (%s in %s) in app %s, retained for its snapshots", v.ID, v.Name, v.Region, name)
		}
		for _, v := range retained.Volumes {
			if v.SnapshotID == "" {
				f.add(invOrphanApps, "app %s is retained, but volume %s has no final snapshot", name, v.VolumeID)
			}
		}
		return
	}
	if e == nil {
		why := "was never provisioned by this run"
		if owner != nil {
			why = fmt.Sprintf("belongs to %s (created=%v, deleted=%v)", owner.ID, owner.Created, owner.Deleted)
		}
		f.add(invOrphanApps, "app %s %s; %d machine(s), %d IP(s)", name, why, len(a.machines), len(a.ips))
		for _, m := range a.machines {
			f.add(invOrphanMach, "machine %s (%s, %s) in orphaned app %s", m.ID, keyOfMachine(m), m.State, name)
		}
		for _, ip := range a.ips {
			f.add(invOrphanIPs, "IP %s in orphaned app %s", ip.IP, name)
		}
		return
	}
	desired := e.desired()
	for _, m := range a.machines {
		if metaOf(m, fly.MetaExtension) != e.ID || !slices.Contains(desired, keyOfMachine(m)) {
			f.add(invOrphanMach, "machine %s (%s, %s, extension %q) in app %s of %s is not desired", m.ID, keyOfMachine(m), m.State,
				metaOf(m, fly.MetaExtension), name, e.ID)
		}
	}
	flycast := 0
	for _, ip := range a.ips {
		if ip.IsFlycast() {
			if flycast++; flycast == 1 {
				continue
			}
		}
		f.add(invOrphanIPs, "IP %s (flycast=%v) in app %s of %s is an extra address", ip.IP, ip.IsFlycast(), name, e.ID)
	}
}

// appNameOf is the Fly app the manager makes for e.
func appNameOf(e *extension) string { return domain.AppName(appPrefix, e.ID) }

func conditionMessage(k *jetwayv1.Extension, t string) string {
	if c := meta.FindStatusCondition(k.Status.Conditions, t); c != nil {
		return c.Reason + ": " + c.Message
	}
	return "(no " + t + " condition)"
}

func imageOf(m fly.Machine) string {
	if m.Config == nil {
		return ""
	}
	return m.Config.Image
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
