package integration

import (
	"testing"
	"time"

	"github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/api/meta"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
	kstatus "sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// TestReadyOnlyWhenEveryCheckPasses: an extension whose plan has checks is
// ready only once Fly reports every machine's checks passing; a machine
// that starts failing its check takes it out of ready, with the check's
// output in the condition, and it comes back when the check passes.
func TestReadyOnlyWhenEveryCheckPasses(t *testing.T) {
	g := newG(t)
	plan := rolloutPlan(t, nil)
	id := uniqueID("chk")
	req := provisionRequest(id, "chk-"+id, uniqueID("org"))
	req["plan"] = plan.Name
	req["read_regions"] = []string{"syd"}
	provision(t, req)

	// Ready comes only after every machine's checks pass on Fly.
	ext := waitReady(t, id)
	for _, m := range liveMachines(id) {
		g.Expect(m.Checks).NotTo(gomega.BeEmpty(), "machine %s", m.ID)
		g.Expect(allPassing(m)).To(gomega.BeTrue(), "machine %s was not passing when the extension became ready", m.ID)
	}
	for _, ms := range ext.Status.Machines {
		g.Expect(ms.Checks).To(gomega.HaveValue(gomega.Equal("passing")))
	}
	g.Expect(jsonBody(t, mustGet(t, id))).To(gomega.HaveKeyWithValue("status", "ready"))

	var replica string
	for _, m := range ext.Status.Machines {
		if m.Role == jetwayv1.RoleReplica {
			replica = m.ID
		}
	}
	g.Expect(sim.FailMachineChecks(ext.Status.AppName, replica)).To(gomega.Succeed())
	t.Cleanup(sim.ClearCheckFailures)
	g.Eventually(func(g gomega.Gomega) {
		cur, err := findExtension(ctxFor(t), id)
		g.Expect(err).NotTo(gomega.HaveOccurred())
		c := meta.FindStatusCondition(cur.Status.Conditions, jetwayv1.ConditionMachinesReady)
		g.Expect(c.Reason).To(gomega.Equal(jetwayv1.ReasonChecksFailing))
		g.Expect(c.Message).To(gomega.And(gomega.ContainSubstring(replica), gomega.ContainSubstring("critical"),
			gomega.ContainSubstring("connection refused")))
		g.Expect(meta.IsStatusConditionTrue(cur.Status.Conditions, jetwayv1.ConditionReady)).To(gomega.BeFalse())
		g.Expect(jsonBody(t, mustGet(t, id))).To(gomega.HaveKeyWithValue("status", "pending"))
	}).WithTimeout(40 * time.Second).Should(gomega.Succeed())

	sim.ClearCheckFailures()
	waitReady(t, id)
}

// TestAFailingCheckStopsTheRollout: a plan change to an image whose
// machines fail their checks stops at the first machine it changes (a
// replica): the rollout pauses with a condition naming the machine and its
// check, Fly hears error, the other machines stay on the old image, and a
// revert of the plan brings the changed machine back.
func TestAFailingCheckStopsTheRollout(t *testing.T) {
	g := newG(t)
	plan := rolloutPlan(t, nil)
	id := uniqueID("bad")
	req := provisionRequest(id, "bad-"+id, uniqueID("org"))
	req["plan"] = plan.Name
	req["primary_region"] = "ams"
	req["read_regions"] = []string{"syd", "fra"}
	provision(t, req)
	waitReady(t, id)

	badImage := "registry.example.com/logjam:broken-" + id
	g.Expect(sim.FailImageChecks(badImage)).To(gomega.Succeed())
	t.Cleanup(sim.ClearCheckFailures)
	editPlan(t, plan.Name, func(s *jetwayv1.ExtensionPlanSpec) { s.Image = badImage })

	var paused *jetwayv1.Extension
	g.Eventually(func(g gomega.Gomega) {
		cur, err := findExtension(ctxFor(t), id)
		g.Expect(err).NotTo(gomega.HaveOccurred())
		expectRollout(g, cur, jetwayv1.RolloutPaused, "1/3")
		paused = cur
	}).WithTimeout(60 * time.Second).Should(gomega.Succeed())
	rolled := meta.FindStatusCondition(paused.Status.Conditions, jetwayv1.ConditionRolledOut)
	machines := meta.FindStatusCondition(paused.Status.Conditions, jetwayv1.ConditionMachinesReady)
	t.Logf("RolledOut=%s %s: %s", rolled.Status, rolled.Reason, rolled.Message)
	t.Logf("MachinesReady=%s %s: %s", machines.Status, machines.Reason, machines.Message)
	g.Expect(machines.Reason).To(gomega.Equal(jetwayv1.ReasonRolloutPaused))
	g.Expect(rolled.Message).To(gomega.And(gomega.ContainSubstring("replica machine"), gomega.ContainSubstring("in fra"),
		gomega.ContainSubstring("servicecheck-00-tcp-5432 critical")))
	g.Expect(meta.IsStatusConditionTrue(paused.Status.Conditions, jetwayv1.ConditionStalled)).To(gomega.BeTrue())
	expectGitOpsHealth(t, client.ObjectKeyFromObject(paused), argoDegraded, kstatus.FailedStatus)
	got := jsonBody(t, mustGet(t, id))
	g.Expect(got).To(gomega.HaveKeyWithValue("status", "error"))
	t.Logf("GET: status %v, error_message %q", got["status"], got["error_message"])

	// Nothing more changes while paused.
	g.Consistently(func(g gomega.Gomega) {
		images := map[string]string{}
		for _, m := range liveMachines(id) {
			images[m.Region] = m.Config.Image
		}
		g.Expect(images).To(gomega.Equal(map[string]string{"fra": badImage, "syd": standardImage, "ams": standardImage}))
	}).WithTimeout(4 * time.Second).Should(gomega.Succeed())

	// The revert is a new generation: the changed machine goes back.
	editPlan(t, plan.Name, func(s *jetwayv1.ExtensionPlanSpec) { s.Image = standardImage })
	g.Eventually(func(g gomega.Gomega) {
		cur, err := findExtension(ctxFor(t), id)
		g.Expect(err).NotTo(gomega.HaveOccurred())
		expectRollout(g, cur, jetwayv1.RolloutComplete, "3/3")
		for _, m := range liveMachines(id) {
			g.Expect(m.Config.Image).To(gomega.Equal(standardImage))
		}
	}).WithTimeout(60 * time.Second).Should(gomega.Succeed())
	waitReady(t, id)
}
