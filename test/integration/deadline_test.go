package integration

import (
	"testing"
	"time"

	"github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/utils/ptr"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
	kstatus "sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// TestAFailurePastTheDeadlineShowsAsError: a region out of volume capacity
// keeps an extension pending only until its plan's progressDeadline; then
// Fly's GET answers error with the reason, while Jetway keeps trying, and
// the extension becomes ready once the region has room.
func TestAFailurePastTheDeadlineShowsAsError(t *testing.T) {
	g := newG(t)
	const region = "gru"
	g.Expect(sim.SetVolumeCapacity(region, false)).To(gomega.Succeed())
	t.Cleanup(func() { _ = sim.SetVolumeCapacity(region, true) })
	plan := storagePlan(t)
	editPlan(t, plan, func(s *jetwayv1.ExtensionPlanSpec) { s.ProgressDeadlineSeconds = ptr.To[int32](3) })
	id := uniqueID("late")
	req := provisionRequest(id, "late-"+id, uniqueID("org"))
	req["plan"] = plan
	req["read_regions"] = []string{region}
	provision(t, req)

	// Pending first: a failure is not an error until the deadline.
	g.Eventually(func() any { return jsonBody(t, mustGet(t, id))["status"] }).Should(gomega.Equal("pending"))
	start := time.Now()
	g.Eventually(func(g gomega.Gomega) {
		got := jsonBody(t, mustGet(t, id))
		g.Expect(got).To(gomega.HaveKeyWithValue("status", "error"))
		g.Expect(got).To(gomega.HaveKeyWithValue("error_message", gomega.And(
			gomega.ContainSubstring("Jetway keeps trying"), gomega.ContainSubstring("no capacity"), gomega.ContainSubstring(region))))
	}).WithTimeout(30 * time.Second).Should(gomega.Succeed())
	t.Logf("error after %s", time.Since(start).Round(100*time.Millisecond))
	ext, err := findExtension(ctxFor(t), id)
	g.Expect(err).NotTo(gomega.HaveOccurred())
	g.Expect(ext.Status.FailingSince).NotTo(gomega.BeNil())
	ready := meta.FindStatusCondition(ext.Status.Conditions, jetwayv1.ConditionReady)
	g.Expect(ready.Reason).To(gomega.Equal(jetwayv1.ReasonProgressDeadlineExceeded))
	g.Expect(meta.IsStatusConditionTrue(ext.Status.Conditions, jetwayv1.ConditionReconciling)).To(gomega.BeTrue(), "still trying")
	g.Expect(meta.IsStatusConditionTrue(ext.Status.Conditions, jetwayv1.ConditionStalled)).To(gomega.BeFalse())
	// Fly hears error, so Argo CD says Degraded; Jetway is still trying,
	// so kstatus (Flux) says InProgress, and a Flux wait times out rather
	// than fails (docs/gitops.md).
	expectGitOpsHealth(t, client.ObjectKeyFromObject(ext), argoDegraded, kstatus.InProgressStatus)

	// Fly recovers: ready, and the failure forgotten.
	g.Expect(sim.SetVolumeCapacity(region, true)).To(gomega.Succeed())
	ext = waitReady(t, id)
	g.Expect(ext.Status.FailingSince).To(gomega.BeNil())
	g.Expect(jsonBody(t, mustGet(t, id))).To(gomega.HaveKeyWithValue("status", "ready"))
}
