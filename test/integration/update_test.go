package integration

import (
	"net/http"
	"testing"

	"github.com/onsi/gomega"
	"sigs.k8s.io/controller-runtime/pkg/client"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
)

// TestUpdateReadRegions: adding a read region adds exactly one replica
// there, removing it destroys exactly that one, and a PATCH that changes
// nothing writes nothing.
func TestUpdateReadRegions(t *testing.T) {
	g := newG(t)
	ctx := ctxFor(t)
	id := uniqueID("upd")
	req := provisionRequest(id, "queue-"+id, uniqueID("org"))
	req["primary_region"] = "ams"
	req["read_regions"] = []string{"fra"}
	provision(t, req)
	waitReady(t, id)
	g.Eventually(func() []string { return keys(placement(liveMachines(id))) }).Should(
		gomega.ConsistOf("primary/ams", "replica/fra"))
	original := placement(liveMachines(id))

	// Add lhr.
	resp, err := flyAPI.Update(ctx, id, map[string]any{"read_regions": []string{"fra", "lhr"}})
	g.Expect(err).NotTo(gomega.HaveOccurred())
	g.Expect(resp.StatusCode).To(gomega.Equal(http.StatusOK), "body: %s", resp.Body)
	g.Expect(jsonBody(t, resp)).To(gomega.HaveKeyWithValue("read_regions", gomega.ConsistOf("fra", "lhr")))
	ext := waitReady(t, id)
	g.Expect(ext.Generation).To(gomega.BeNumerically(">", 1))
	g.Eventually(func() []string { return keys(placement(liveMachines(id))) }).Should(
		gomega.ConsistOf("primary/ams", "replica/fra", "replica/lhr"))
	grown := placement(liveMachines(id))
	for k, mid := range original {
		g.Expect(grown).To(gomega.HaveKeyWithValue(k, mid), "existing machine %s was replaced", k)
	}
	g.Consistently(func() int { return len(sim.Machines(appName(id))) }).Should(gomega.Equal(3), "exactly one machine is added")
	lhr := grown["replica/lhr"]

	// Remove it again: exactly that machine goes.
	resp, err = flyAPI.Update(ctx, id, map[string]any{"read_regions": []string{"fra"}})
	g.Expect(err).NotTo(gomega.HaveOccurred())
	g.Expect(resp.StatusCode).To(gomega.Equal(http.StatusOK), "body: %s", resp.Body)
	waitReady(t, id)
	g.Eventually(func() []string {
		var ids []string
		for _, m := range sim.Machines(appName(id)) {
			ids = append(ids, m.ID)
		}
		return ids
	}).Should(gomega.ConsistOf(original["primary/ams"], original["replica/fra"]),
		"only the lhr machine %s is destroyed", lhr)
	g.Expect(placement(liveMachines(id))).To(gomega.Equal(original))

	// The same PATCH again is a no-op: 200 and no write at all.
	before := waitReady(t, id)
	resp, err = flyAPI.Update(ctx, id, map[string]any{"read_regions": []string{"fra"}, "plan": defaultPlan})
	g.Expect(err).NotTo(gomega.HaveOccurred())
	g.Expect(resp.StatusCode).To(gomega.Equal(http.StatusOK), "body: %s", resp.Body)
	g.Expect(jsonBody(t, resp)).To(gomega.HaveKeyWithValue("status", jetwayv1.PhaseReady))
	after := &jetwayv1.Extension{}
	g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(before), after)).To(gomega.Succeed())
	// The one write allowed meanwhile is a machine event's poke: the events
	// of the lhr machine's removal fold into one that comes up to
	// --machine-event-interval later.
	if after.ResourceVersion != before.ResourceVersion {
		g.Expect(after.Annotations[jetwayv1.AnnotationMachineEvent]).NotTo(gomega.Equal(before.Annotations[jetwayv1.AnnotationMachineEvent]),
			"a no-op PATCH wrote the Extension")
		delete(after.Annotations, jetwayv1.AnnotationMachineEvent)
		delete(before.Annotations, jetwayv1.AnnotationMachineEvent)
		g.Expect(after.Annotations).To(gomega.Equal(before.Annotations), "a no-op PATCH wrote the Extension")
		g.Expect(after.Spec).To(gomega.Equal(before.Spec), "a no-op PATCH wrote the Extension")
	}
	g.Expect(after.Generation).To(gomega.Equal(before.Generation))
	g.Expect(placement(liveMachines(id))).To(gomega.Equal(original))
}

// TestUpdatePlan: changing the plan reconfigures the running machines in
// place (same machines, the new plan's image and size).
func TestUpdatePlan(t *testing.T) {
	g := newG(t)
	ctx := ctxFor(t)
	id := uniqueID("plan")
	req := provisionRequest(id, "big-"+id, uniqueID("org"))
	req["primary_region"] = "ord"
	req["read_regions"] = []string{"sea"}
	req["plan"] = largePlan
	created := provision(t, req)
	g.Expect(created).To(gomega.HaveKeyWithValue("plan", largePlan))
	waitReady(t, id)
	g.Eventually(func() []string { return keys(placement(liveMachines(id))) }).Should(
		gomega.ConsistOf("primary/ord", "replica/sea"))
	for _, m := range liveMachines(id) {
		g.Expect(m.Config.Image).To(gomega.Equal(largeImage), "machine %s", m.ID)
		g.Expect(m.Config.Guest.MemoryMB).To(gomega.Equal(1024), "machine %s", m.ID)
	}
	machines := placement(liveMachines(id))

	resp, err := flyAPI.Update(ctx, id, map[string]any{"plan": defaultPlan})
	g.Expect(err).NotTo(gomega.HaveOccurred())
	g.Expect(resp.StatusCode).To(gomega.Equal(http.StatusOK), "body: %s", resp.Body)
	g.Expect(jsonBody(t, resp)).To(gomega.HaveKeyWithValue("plan", defaultPlan))

	g.Eventually(func(g gomega.Gomega) {
		ms := liveMachines(id)
		g.Expect(ms).To(gomega.HaveLen(2))
		for _, m := range ms {
			g.Expect(m.Config.Image).To(gomega.Equal(standardImage), "machine %s", m.ID)
			g.Expect(m.Config.Guest.MemoryMB).To(gomega.Equal(256), "machine %s", m.ID)
		}
	}).Should(gomega.Succeed())
	waitReady(t, id)
	g.Expect(placement(liveMachines(id))).To(gomega.Equal(machines), "machines were replaced, not updated")

	// An unknown plan is refused and changes nothing.
	resp, err = flyAPI.Update(ctx, id, map[string]any{"plan": "no-such-plan"})
	expectError(t, resp, err, http.StatusUnprocessableEntity, "unknown_plan")
	ext := waitReady(t, id)
	g.Expect(ext.Spec.Plan).To(gomega.Equal(defaultPlan))
}
