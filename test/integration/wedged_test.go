package integration

import (
	"net/http"
	"testing"

	"github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
)

// TestWedgedReplicaIsReplaced: a replica stuck in "starting" past the
// wedged threshold is destroyed and created anew in its region; the
// primary is not touched.
func TestWedgedReplicaIsReplaced(t *testing.T) {
	g := newG(t)
	id, before := readyThenWedgeReplica(t, "wedge", "ams", "waw")

	g.Eventually(func(g gomega.Gomega) {
		now := placement(liveMachines(id))
		g.Expect(keys(now)).To(gomega.ConsistOf("primary/ams", "replica/waw"))
		g.Expect(now["replica/waw"]).NotTo(gomega.Equal(before["replica/waw"]), "the wedged replica is still there")
		g.Expect(now["primary/ams"]).To(gomega.Equal(before["primary/ams"]), "the primary was touched")
	}).Should(gomega.Succeed())
	ext := waitReady(t, id)
	g.Expect(ext.Status.Machines).To(gomega.ContainElement(gomega.HaveField("ID", placement(liveMachines(id))["replica/waw"])))
}

// TestWedgedPrimaryIsReported: a wedged primary may hold data, so it is
// reported (MachinesReady=False, MachineWedged, with what to do) and left
// alone; once an operator destroys it, a new primary is created.
func TestWedgedPrimaryIsReported(t *testing.T) {
	g := newG(t)
	ctx := ctxFor(t)
	id := uniqueID("wedgep")
	provision(t, provisionRequest(id, "wedgep-"+id, uniqueID("org")))
	waitReady(t, id)
	primary := placement(liveMachines(id))["primary/iad"]
	g.Expect(primary).NotTo(gomega.BeEmpty())

	g.Expect(sim.WedgeMachine(appName(id), primary)).To(gomega.Succeed())

	g.Eventually(func(g gomega.Gomega) {
		ext, err := findExtension(ctx, id)
		g.Expect(err).NotTo(gomega.HaveOccurred())
		c := meta.FindStatusCondition(ext.Status.Conditions, jetwayv1.ConditionMachinesReady)
		g.Expect(c).NotTo(gomega.BeNil())
		g.Expect(c.Status).To(gomega.Equal(metav1.ConditionFalse))
		g.Expect(c.Reason).To(gomega.Equal(jetwayv1.ReasonMachineWedged))
		g.Expect(c.Message).To(gomega.And(gomega.ContainSubstring(primary), gomega.ContainSubstring("fly machine destroy --force")))
		g.Expect(meta.IsStatusConditionTrue(ext.Status.Conditions, jetwayv1.ConditionReady)).To(gomega.BeFalse())
	}).Should(gomega.Succeed())
	g.Consistently(func() string { return placement(liveMachines(id))["primary/iad"] }, "2s").Should(
		gomega.Equal(primary), "Jetway destroyed a wedged primary")

	// The operator's way out.
	g.Expect(sim.DestroyMachineOutOfBand(appName(id), primary)).To(gomega.Succeed())
	g.Eventually(func() string { return placement(liveMachines(id))["primary/iad"] }).ShouldNot(
		gomega.Or(gomega.BeEmpty(), gomega.Equal(primary)))
	waitReady(t, id)
}

// TestWedgedReplicaIsReplacedDuringPlanChange: Fly refuses to update a
// machine that has not settled, so a plan change that lands while a replica
// is wedged must replace that replica rather than retry its update for
// ever. Both machines end on the new plan's image; the primary is updated
// in place.
func TestWedgedReplicaIsReplacedDuringPlanChange(t *testing.T) {
	g := newG(t)
	ctx := ctxFor(t)
	id, before := readyThenWedgeReplica(t, "wedgeplan", "ord", "fra")
	resp, err := flyAPI.Update(ctx, id, map[string]any{"plan": largePlan})
	g.Expect(err).NotTo(gomega.HaveOccurred())
	g.Expect(resp.StatusCode).To(gomega.Equal(http.StatusOK), "body: %s", resp.Body)

	g.Eventually(func(g gomega.Gomega) {
		ms := liveMachines(id)
		now := placement(ms)
		g.Expect(keys(now)).To(gomega.ConsistOf("primary/ord", "replica/fra"))
		g.Expect(now["replica/fra"]).NotTo(gomega.Equal(before["replica/fra"]), "the wedged replica is still there")
		g.Expect(now["primary/ord"]).To(gomega.Equal(before["primary/ord"]), "the primary was replaced, not updated")
		for _, m := range ms {
			g.Expect(m.Config.Image).To(gomega.Equal(largeImage), "machine %s", m.ID)
		}
	}).Should(gomega.Succeed())
	waitReady(t, id)
}

// readyThenWedgeReplica provisions an extension with a primary in primary
// and a replica in replica, waits for it to be Ready, then wedges the
// replica. It returns the id and the machines as they were before.
func readyThenWedgeReplica(t *testing.T, prefix, primary, replica string) (string, map[string]string) {
	t.Helper()
	id := uniqueID(prefix)
	req := provisionRequest(id, prefix+"-"+id, uniqueID("org"))
	req["primary_region"] = primary
	req["read_regions"] = []string{replica}
	provision(t, req)
	waitReady(t, id)
	before := placement(liveMachines(id))
	newG(t).Expect(sim.WedgeMachine(appName(id), before["replica/"+replica])).To(gomega.Succeed())
	return id, before
}
