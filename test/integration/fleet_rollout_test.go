package integration

import (
	"fmt"
	"testing"
	"time"

	"github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/utils/ptr"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
)

// TestAFleetRolloutStopsAtItsHealthGate: a plan change reaches its
// extensions no more than maxExtensionsInFlight at a time; when it brings
// a bad image, the fleet stops once maxFailedExtensions have paused, and
// the rest wait, ready, on the old image. A fixed plan (a new generation)
// opens the gate and reaches every one.
func TestAFleetRolloutStopsAtItsHealthGate(t *testing.T) {
	g := newG(t)
	plan := rolloutPlan(t, func(s *jetwayv1.ExtensionPlanSpec) {
		s.Rollout.MaxExtensionsInFlight = ptr.To[int32](2)
		s.Rollout.MaxFailedExtensions = ptr.To[int32](2)
		s.Rollout.HealthTimeoutSeconds = ptr.To[int32](5)
	})
	const fleet = 5
	var ids []string
	for i := range fleet {
		id := uniqueID(fmt.Sprintf("fleet%d", i))
		req := provisionRequest(id, "fleet-"+id, uniqueID("org"))
		req["plan"] = plan.Name
		provision(t, req)
		ids = append(ids, id)
	}
	for _, id := range ids {
		waitReady(t, id)
	}
	states := func(g gomega.Gomega) map[string][]string {
		out := map[string][]string{}
		for _, id := range ids {
			cur, err := findExtension(ctxFor(t), id)
			g.Expect(err).NotTo(gomega.HaveOccurred())
			c := meta.FindStatusCondition(cur.Status.Conditions, jetwayv1.ConditionRolledOut)
			g.Expect(c).NotTo(gomega.BeNil())
			out[c.Reason] = append(out[c.Reason], id)
		}
		return out
	}
	// onImage counts the fleet's machines on image.
	onImage := func(image string) int {
		n := 0
		for _, id := range ids {
			for _, m := range liveMachines(id) {
				if m.Config.Image == image {
					n++
				}
			}
		}
		return n
	}

	badImage := "registry.example.com/logjam:broken-" + ids[0]
	g.Expect(sim.FailImageChecks(badImage)).To(gomega.Succeed())
	t.Cleanup(sim.ClearCheckFailures)
	editPlan(t, plan.Name, func(s *jetwayv1.ExtensionPlanSpec) { s.Image = badImage })
	// Two change at once. When the first pauses, its place frees while the
	// second is still within its health timeout, so a third may start
	// before the second pauses and closes the gate: at most
	// maxExtensionsInFlight + maxFailedExtensions - 1 take a bad change.
	var paused int
	g.Eventually(func(g gomega.Gomega) {
		g.Expect(onImage(badImage)).To(gomega.BeNumerically("<=", 3))
		s := states(g)
		paused = len(s[jetwayv1.RolloutPaused])
		g.Expect(paused).To(gomega.BeElementOf(2, 3))
		g.Expect(s[jetwayv1.RolloutWaiting]).To(gomega.HaveLen(fleet-paused), "%v", s)
		// The pause that closed the gate woke every waiting extension to
		// say so.
		for _, id := range s[jetwayv1.RolloutWaiting] {
			cur, err := findExtension(ctxFor(t), id)
			g.Expect(err).NotTo(gomega.HaveOccurred())
			c := meta.FindStatusCondition(cur.Status.Conditions, jetwayv1.ConditionRolledOut)
			g.Expect(c.Message).To(gomega.ContainSubstring("health gate is closed"))
		}
	}).WithTimeout(60 * time.Second).Should(gomega.Succeed())
	t.Logf("%d of %d extensions paused on the bad image; the gate closed for the rest", paused, fleet)
	g.Consistently(func(g gomega.Gomega) {
		g.Expect(onImage(badImage)).To(gomega.Equal(paused), "the gate is closed: no other extension takes the bad image")
		for _, id := range states(g)[jetwayv1.RolloutWaiting] {
			cur, err := findExtension(ctxFor(t), id)
			g.Expect(err).NotTo(gomega.HaveOccurred())
			g.Expect(meta.IsStatusConditionTrue(cur.Status.Conditions, jetwayv1.ConditionReady)).To(gomega.BeTrue(), "a waiting extension still serves")
		}
	}).WithTimeout(5 * time.Second).Should(gomega.Succeed())
	waiting, err := findExtension(ctxFor(t), states(g)[jetwayv1.RolloutWaiting][0])
	g.Expect(err).NotTo(gomega.HaveOccurred())
	t.Logf("a waiting extension: %s", meta.FindStatusCondition(waiting.Status.Conditions, jetwayv1.ConditionRolledOut).Message)

	// The fix: every extension reaches it, two at a time.
	editPlan(t, plan.Name, func(s *jetwayv1.ExtensionPlanSpec) { s.Image = largeImage })
	g.Eventually(func(g gomega.Gomega) {
		g.Expect(onImage(largeImage)).To(gomega.Equal(fleet))
		s := states(g)
		g.Expect(s[jetwayv1.RolloutComplete]).To(gomega.HaveLen(fleet), "%v", s)
	}).WithTimeout(90 * time.Second).Should(gomega.Succeed())
	for _, id := range ids {
		waitReady(t, id)
	}
}
