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
//
// An extension refused waits; it is woken (wake) when a place frees or the
// gate closes, rather than polling, so a fleet of a thousand waiting costs
// no Fly call while it waits. The resync is the fallback.
type fleetGate struct {
	mu sync.Mutex
	// inFlight and failed are, by plan name, the extensions this process
	// admitted or saw pause, with the plan generation concerned.
	inFlight map[string]map[types.UID]int64
	failed   map[string]map[types.UID]int64
	// waiting are, by plan name, the extensions refused, oldest first.
	waiting map[string][]waiter
	// wake, when set, is told which waiting extensions to look at again.
	wake func(types.NamespacedName)
}

// waiter is an extension the gate refused.
type waiter struct {
	uid types.UID
	key types.NamespacedName
}

// admit reports whether ext may start changing to plan's current
// generation, given the plan's other extensions as cached; when it may
// not, why. An extension already changing (or paused, and recovering)
// holds its place and is not asked again.
func (g *fleetGate) admit(plan *jetwayv1.ExtensionPlan, ext *jetwayv1.Extension, peers []jetwayv1.Extension) (bool, string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if s := rolloutState(ext); s == jetwayv1.RolloutProgressing || s == jetwayv1.RolloutPaused {
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
		if p.UID == ext.UID {
			continue
		}
		switch rolloutState(p) {
		case jetwayv1.RolloutProgressing:
			inFlight[p.UID] = true
		case jetwayv1.RolloutPaused:
			if rolloutGeneration(p) == plan.Generation {
				failed[p.UID] = true
			}
		}
	}
	limits := plan.Spec.Rollout.Limits()
	maxInFlight, maxFailed := limits.MaxExtensionsInFlight, limits.MaxFailedExtensions
	if len(failed) >= maxFailed {
		return false, fmt.Sprintf("the fleet's health gate is closed: %d of plan %s's extensions paused on its generation %d (maxFailedExtensions %d); change the plan to fix or revert it",
			len(failed), plan.Name, plan.Generation, maxFailed)
	}
	if len(inFlight) >= maxInFlight {
		g.wait(plan.Name, ext)
		return false, fmt.Sprintf("%d of plan %s's extensions are changing (maxExtensionsInFlight %d)", len(inFlight), plan.Name, maxInFlight)
	}
	g.set(&g.inFlight, plan.Name, ext.UID, plan.Generation)
	g.unwait(plan.Name, ext.UID)
	return true, ""
}

// unwait takes uid out of plan's queue.
func (g *fleetGate) unwait(plan string, uid types.UID) {
	queue := g.waiting[plan]
	for i, w := range queue {
		if w.uid == uid {
			g.waiting[plan] = append(queue[:i:i], queue[i+1:]...)
			return
		}
	}
}

// wait queues ext to be woken when a place may free.
func (g *fleetGate) wait(plan string, ext *jetwayv1.Extension) {
	for _, w := range g.waiting[plan] {
		if w.uid == ext.UID {
			return
		}
	}
	if g.waiting == nil {
		g.waiting = map[string][]waiter{}
	}
	g.waiting[plan] = append(g.waiting[plan], waiter{uid: ext.UID, key: types.NamespacedName{Namespace: ext.Namespace, Name: ext.Name}})
}

// wakeLocked wakes the n oldest waiting extensions of plan (all for n < 0).
func (g *fleetGate) wakeLocked(plan string, n int) {
	queue := g.waiting[plan]
	if len(queue) == 0 {
		return
	}
	if n < 0 || n > len(queue) {
		n = len(queue)
	}
	if g.wake != nil {
		for _, w := range queue[:n] {
			g.wake(w.key)
		}
	}
	g.waiting[plan] = queue[n:]
}

// finished records how ext's rollout on plan stands after this pass: a
// Complete one frees its place, a Paused one counts against the gate, and
// one that recovered from a pause no longer does.
func (g *fleetGate) finished(plan *jetwayv1.ExtensionPlan, ext *jetwayv1.Extension, phase string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	_, held := g.inFlight[plan.Name][ext.UID]
	switch phase {
	case jetwayv1.RolloutComplete, jetwayv1.RolloutWaiting:
		delete(g.inFlight[plan.Name], ext.UID)
		delete(g.failed[plan.Name], ext.UID)
		if held {
			g.wakeLocked(plan.Name, 1) // its place is free
		}
	case jetwayv1.RolloutProgressing:
		delete(g.failed[plan.Name], ext.UID)
	case jetwayv1.RolloutPaused:
		delete(g.inFlight[plan.Name], ext.UID)
		if _, known := g.failed[plan.Name][ext.UID]; !known {
			// A place frees, or the gate closes: every waiting extension
			// is looked at again, to start or to say why it cannot.
			g.wakeLocked(plan.Name, -1)
		}
		g.set(&g.failed, plan.Name, ext.UID, plan.Generation)
	}
}

// forget drops ext: it is being deleted.
func (g *fleetGate) forget(ext *jetwayv1.Extension) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for plan := range g.waiting {
		g.unwait(plan, ext.UID)
	}
	for _, m := range []map[string]map[types.UID]int64{g.inFlight, g.failed} {
		for plan, byUID := range m {
			if _, held := byUID[ext.UID]; held && m[plan] != nil {
				delete(byUID, ext.UID)
				g.wakeLocked(plan, 1)
			}
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
