package integration

import (
	"testing"
	"time"

	"github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/utils/ptr"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
)

// TestPlanChangeRollsReplicasFirstOneAtATime: a new image reaches an
// extension's machines one at a time, replicas before the primary, never
// more than maxUnavailable (1) out of service at once, and the rollout
// shows in status as it goes and when it is done.
func TestPlanChangeRollsReplicasFirstOneAtATime(t *testing.T) {
	g := newG(t)
	plan := rolloutPlan(t, nil)
	id := uniqueID("roll")
	req := provisionRequest(id, "roll-"+id, uniqueID("org"))
	req["plan"] = plan.Name
	req["primary_region"] = "ams"
	req["read_regions"] = []string{"syd", "fra"}
	provision(t, req)
	ext := waitReady(t, id)
	expectRollout(g, ext, jetwayv1.RolloutComplete, "3/3")

	watch := watchMachines(t, ext.Status.AppName)
	editPlan(t, plan.Name, func(s *jetwayv1.ExtensionPlanSpec) { s.Image = largeImage })
	sawProgress := false
	g.Eventually(func(g gomega.Gomega) {
		cur, err := findExtension(ctxFor(t), id)
		g.Expect(err).NotTo(gomega.HaveOccurred())
		if c := meta.FindStatusCondition(cur.Status.Conditions, jetwayv1.ConditionRolledOut); c != nil && c.Reason == jetwayv1.RolloutProgressing {
			sawProgress = true
		}
		expectRollout(g, cur, jetwayv1.RolloutComplete, "3/3")
		for _, m := range liveMachines(id) {
			g.Expect(m.Config.Image).To(gomega.Equal(largeImage))
		}
		g.Expect(meta.IsStatusConditionTrue(cur.Status.Conditions, jetwayv1.ConditionReady)).To(gomega.BeTrue())
	}).WithTimeout(60 * time.Second).Should(gomega.Succeed())
	watch.end()

	g.Expect(sawProgress).To(gomega.BeTrue(), "status showed the rollout Progressing")
	g.Expect(watch.firstOn(largeImage)).To(gomega.Equal([]string{"replica/fra", "replica/syd", "primary/ams"}))
	g.Expect(watch.mostOutOfService()).To(gomega.Equal(1), "at most maxUnavailable machines out of service at once")
}

// TestMaxUnavailableTwoChangesReplicasTogether: with maxUnavailable 2, both
// replicas change in one step, and the primary still goes last.
func TestMaxUnavailableTwoChangesReplicasTogether(t *testing.T) {
	g := newG(t)
	plan := rolloutPlan(t, func(s *jetwayv1.ExtensionPlanSpec) { s.Rollout.MaxUnavailable = ptr.To[int32](2) })
	id := uniqueID("roll2")
	req := provisionRequest(id, "roll2-"+id, uniqueID("org"))
	req["plan"] = plan.Name
	req["primary_region"] = "ams"
	req["read_regions"] = []string{"syd", "fra"}
	provision(t, req)
	ext := waitReady(t, id)

	watch := watchMachines(t, ext.Status.AppName)
	editPlan(t, plan.Name, func(s *jetwayv1.ExtensionPlanSpec) { s.Image = largeImage })
	g.Eventually(func(g gomega.Gomega) {
		for _, m := range liveMachines(id) {
			g.Expect(m.Config.Image).To(gomega.Equal(largeImage))
		}
	}).WithTimeout(60 * time.Second).Should(gomega.Succeed())
	waitReady(t, id)
	watch.end()
	order := watch.firstOn(largeImage)
	g.Expect(order).To(gomega.HaveLen(3))
	g.Expect(order[:2]).To(gomega.ConsistOf("replica/fra", "replica/syd"))
	g.Expect(order[2]).To(gomega.Equal("primary/ams"))
	g.Expect(watch.mostOutOfService()).To(gomega.Equal(2))
}
