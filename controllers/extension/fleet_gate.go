package extension

import (
	"fmt"
	"sync"

	"k8s.io/apimachinery/pkg/types"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
)

// fleetGate bounds a plan change's reach: at most the plan's
// maxExtensionsInFlight of its extensions change at once, and once
// maxFailedExtensions of them have paused on the plan's current
// generation, no other starts (a fleet-level health gate: one bad image
// must not take down every customer at once). A new generation of the plan
// opens the gate again.
//
// What counts is each extension's status.rollout, read from the cache, so
// that a new leader picks up where the last one was; and, on top, what this
// process admitted or saw fail since, so that neither the cache's lag nor
// concurrent passes let more in than the plan allows. Only the leader
// reconciles, so memory need not be shared.
type fleetGate struct {
	mu sync.Mutex
	// inFlight and failed are, by plan name, the extensions this process
	// admitted or saw pause, with the plan generation concerned.
	inFlight map[string]map[types.UID]int64
	failed   map[string]map[types.UID]int64
}

// admit reports whether ext may start changing to plan's current
// generation, given the plan's other extensions as cached; when it may
// not, why. An extension already changing (or paused, and recovering)
// holds its place and is not asked again.
func (g *fleetGate) admit(plan *jetwayv1.ExtensionPlan, ext *jetwayv1.Extension, peers []jetwayv1.Extension) (bool, string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if r := ext.Status.Rollout; r != nil && (r.Phase == jetwayv1.RolloutProgressing || r.Phase == jetwayv1.RolloutPaused) {
		g.set(&g.inFlight, plan.Name, ext.UID, plan.Generation)
		return true, ""
	}
	if _, ok := g.inFlight[plan.Name][ext.UID]; ok {
		return true, ""
	}
	inFlight, failed := map[types.UID]bool{}, map[types.UID]bool{}
	for uid := range g.inFlight[plan.Name] {
		inFlight[uid] = true
	}
	for uid, gen := range g.failed[plan.Name] {
		if gen == plan.Generation {
			failed[uid] = true
		}
	}
	for i := range peers {
		p := &peers[i]
		if p.UID == ext.UID || p.Status.Rollout == nil {
			continue
		}
		switch p.Status.Rollout.Phase {
		case jetwayv1.RolloutProgressing:
			inFlight[p.UID] = true
		case jetwayv1.RolloutPaused:
			if p.Status.Rollout.PlanGeneration == plan.Generation {
				failed[p.UID] = true
			}
		}
	}
	_, maxInFlight, maxFailed := plan.Spec.Rollout.Limits()
	if len(failed) >= maxFailed {
		return false, fmt.Sprintf("the fleet's health gate is closed: %d of plan %s's extensions paused on its generation %d (maxFailedExtensions %d); change the plan to fix or revert it",
			len(failed), plan.Name, plan.Generation, maxFailed)
	}
	if len(inFlight) >= maxInFlight {
		return false, fmt.Sprintf("%d of plan %s's extensions are changing (maxExtensionsInFlight %d)", len(inFlight), plan.Name, maxInFlight)
	}
	g.set(&g.inFlight, plan.Name, ext.UID, plan.Generation)
	return true, ""
}

// finished records how ext's rollout on plan stands after this pass: a
// Complete one frees its place, a Paused one counts against the gate, and
// one that recovered from a pause no longer does.
func (g *fleetGate) finished(plan *jetwayv1.ExtensionPlan, ext *jetwayv1.Extension, phase string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	switch phase {
	case jetwayv1.RolloutComplete, jetwayv1.RolloutWaiting:
		delete(g.inFlight[plan.Name], ext.UID)
		delete(g.failed[plan.Name], ext.UID)
	case jetwayv1.RolloutProgressing:
		delete(g.failed[plan.Name], ext.UID)
	case jetwayv1.RolloutPaused:
		delete(g.inFlight[plan.Name], ext.UID)
		g.set(&g.failed, plan.Name, ext.UID, plan.Generation)
	}
}

// forget drops ext: it is being deleted.
func (g *fleetGate) forget(ext *jetwayv1.Extension) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, m := range []map[string]map[types.UID]int64{g.inFlight, g.failed} {
		for _, byUID := range m {
			delete(byUID, ext.UID)
		}
	}
}

func (g *fleetGate) set(m *map[string]map[types.UID]int64, plan string, uid types.UID, gen int64) {
	if *m == nil {
		*m = map[string]map[types.UID]int64{}
	}
	if (*m)[plan] == nil {
		(*m)[plan] = map[types.UID]int64{}
	}
	(*m)[plan][uid] = gen
}
