package extension

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
)

func gatePlan(gen int64, inFlight, failed int32) *jetwayv1.ExtensionPlan {
	p := &jetwayv1.ExtensionPlan{}
	p.Name, p.Generation = "pg", gen
	p.Spec.Rollout = &jetwayv1.RolloutSpec{MaxExtensionsInFlight: &inFlight, MaxFailedExtensions: &failed}
	return p
}

func gateExt(i int, phase string, gen int64) jetwayv1.Extension {
	e := jetwayv1.Extension{}
	e.UID = types.UID(fmt.Sprint("uid-", i))
	if phase != "" {
		e.Status.Conditions = []metav1.Condition{{Type: jetwayv1.ConditionRolledOut, Status: metav1.ConditionFalse, Reason: phase}}
		e.Status.Rollout = &jetwayv1.RolloutStatus{PlanGeneration: &gen}
	}
	return e
}

func TestFleetGateBoundsExtensionsInFlight(t *testing.T) {
	var g fleetGate
	plan := gatePlan(2, 2, 5)
	var exts []jetwayv1.Extension
	for i := range 4 {
		exts = append(exts, gateExt(i, "", 0))
	}
	// The cache has seen none of them change: memory alone bounds them.
	admitted := 0
	for i := range exts {
		if ok, _ := g.admit(plan, &exts[i], exts); ok {
			admitted++
		}
	}
	if admitted != 2 {
		t.Fatalf("admitted %d of 4, want 2", admitted)
	}
	// One completes: one more may start.
	g.finished(plan, &exts[0], jetwayv1.RolloutComplete)
	if ok, why := g.admit(plan, &exts[2], exts); !ok {
		t.Errorf("after a completion, refused: %s", why)
	}
	if ok, _ := g.admit(plan, &exts[3], exts); ok {
		t.Error("a third at once was admitted")
	}
}

func TestFleetGateCountsWhatTheCacheSaysAfterALeaderChange(t *testing.T) {
	var g fleetGate // a new leader: no memory
	plan := gatePlan(2, 2, 5)
	peers := []jetwayv1.Extension{gateExt(0, jetwayv1.RolloutProgressing, 2), gateExt(1, jetwayv1.RolloutProgressing, 1), gateExt(2, "", 0)}
	if ok, _ := g.admit(plan, &peers[2], peers); ok {
		t.Error("admitted a third while the cache shows two changing")
	}
	// One already changing holds its place.
	if ok, why := g.admit(plan, &peers[0], peers); !ok {
		t.Errorf("an extension already changing was refused: %s", why)
	}
}

func TestFleetGateClosesAfterFailuresOnTheCurrentGeneration(t *testing.T) {
	var g fleetGate
	plan := gatePlan(3, 10, 2)
	peers := []jetwayv1.Extension{gateExt(0, jetwayv1.RolloutPaused, 3), gateExt(1, "", 0), gateExt(2, "", 0), gateExt(3, jetwayv1.RolloutPaused, 2)}
	// One paused on generation 3 and one on an older one: still open.
	if ok, why := g.admit(plan, &peers[1], peers); !ok {
		t.Fatalf("gate closed after one failure: %s", why)
	}
	// The admitted one pauses too; the cache has not seen it yet.
	g.finished(plan, &peers[1], jetwayv1.RolloutPaused)
	ok, why := g.admit(plan, &peers[2], peers)
	if ok || !strings.Contains(why, "health gate is closed") {
		t.Fatalf("after two failures: ok %v, %q", ok, why)
	}
	t.Logf("refusal: %s", why)
	// A new generation (the fix) opens it again.
	if ok, why := g.admit(gatePlan(4, 10, 2), &peers[2], peers); !ok {
		t.Errorf("new generation still gated: %s", why)
	}
}

func TestFleetGateWakesTheWaiting(t *testing.T) {
	var woken []string
	g := fleetGate{wake: func(k types.NamespacedName) { woken = append(woken, k.Name) }}
	plan := gatePlan(2, 1, 1)
	exts := []jetwayv1.Extension{gateExt(0, "", 0), gateExt(1, "", 0), gateExt(2, "", 0)}
	for i := range exts {
		exts[i].Name = fmt.Sprint("e", i)
		g.admit(plan, &exts[i], exts)
	}
	// e0 is in; e1 and e2 wait. e0 completes: one place, one woken.
	g.finished(plan, &exts[0], jetwayv1.RolloutComplete)
	if !cmp.Equal(woken, []string{"e1"}) {
		t.Fatalf("woken on completion: %v", woken)
	}
	woken = nil
	if ok, _ := g.admit(plan, &exts[1], exts); !ok {
		t.Fatal("the woken extension was refused")
	}
	// e1 pauses: the gate closes, and every one waiting hears so.
	g.finished(plan, &exts[1], jetwayv1.RolloutPaused)
	if !cmp.Equal(woken, []string{"e2"}) {
		t.Errorf("woken on a pause: %v", woken)
	}
}
