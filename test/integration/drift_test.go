package integration

import (
	"testing"
	"time"

	"github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/api/meta"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
	"github.com/jetway-dev/jetway/internal/fly"
)

// TestMachineDestroyedOutOfBand: a machine destroyed behind Jetway's back
// (`fly machine destroy --force`) is replaced in the same region and role,
// and the extension is Ready again with the new machine in its status.
func TestMachineDestroyedOutOfBand(t *testing.T) {
	g := newG(t)
	id := uniqueID("drift")
	req := provisionRequest(id, "metrics-"+id, uniqueID("org"))
	req["primary_region"] = "sin"
	req["read_regions"] = []string{"nrt"}
	provision(t, req)
	waitReady(t, id)
	g.Eventually(func() []string { return keys(placement(liveMachines(id))) }).Should(
		gomega.ConsistOf("primary/sin", "replica/nrt"))
	before := placement(liveMachines(id))
	lost := before["replica/nrt"]

	g.Expect(sim.DestroyMachineOutOfBand(appName(id), lost)).To(gomega.Succeed())

	g.Eventually(func(g gomega.Gomega) {
		now := placement(liveMachines(id))
		g.Expect(keys(now)).To(gomega.ConsistOf("primary/sin", "replica/nrt"))
		g.Expect(now["replica/nrt"]).NotTo(gomega.Equal(lost), "the destroyed machine was not replaced")
		g.Expect(now["primary/sin"]).To(gomega.Equal(before["primary/sin"]), "the healthy primary was touched")
	}).Should(gomega.Succeed())
	replacement := placement(liveMachines(id))["replica/nrt"]
	for _, m := range liveMachines(id) {
		if m.ID == replacement {
			g.Expect(m.Region).To(gomega.Equal("nrt"))
		}
	}

	// Ready again, for the machines that now exist.
	g.Eventually(func(g gomega.Gomega) {
		ext, err := findExtension(ctxFor(t), id)
		g.Expect(err).NotTo(gomega.HaveOccurred())
		g.Expect(ext).NotTo(gomega.BeNil())
		g.Expect(meta.IsStatusConditionTrue(ext.Status.Conditions, jetwayv1.ConditionReady)).To(gomega.BeTrue())
		g.Expect(ext.Status.Machines).To(gomega.ConsistOf(
			gomega.HaveField("ID", before["primary/sin"]),
			gomega.HaveField("ID", replacement),
		))
	}).Should(gomega.Succeed())
	waitReady(t, id)
}

// TestAppDeletedOutOfBand: an app deleted behind Jetway's back (`fly apps
// destroy`) takes its machines, IPs and secrets with it. A resync only
// lists machines, but finding the app gone turns the look into a full
// check: the app, its secrets, its machines and a Flycast address are made
// again, and the extension is Ready.
func TestAppDeletedOutOfBand(t *testing.T) {
	g := newG(t)
	id := uniqueID("gone")
	provision(t, provisionRequest(id, "gone-"+id, uniqueID("org")))
	waitReady(t, id)
	// Past the settle window after Ready (two resyncs of 2 s), when
	// resyncs are looks: the look must notice.
	time.Sleep(3 * 2 * time.Second)
	app := appName(id)
	g.Expect(sim.DeleteAppOutOfBand(app)).To(gomega.Succeed())

	g.Eventually(func(g gomega.Gomega) {
		g.Expect(liveMachines(id)).NotTo(gomega.BeEmpty())
		g.Expect(sim.IPAssignments(app)).NotTo(gomega.BeEmpty())
		g.Expect(sim.Secrets(app)).To(gomega.HaveKey(fly.SecretPassword))
		ext, err := findExtension(ctxFor(t), id)
		g.Expect(err).NotTo(gomega.HaveOccurred())
		g.Expect(ext).NotTo(gomega.BeNil())
		g.Expect(meta.IsStatusConditionTrue(ext.Status.Conditions, jetwayv1.ConditionReady)).To(gomega.BeTrue())
		g.Expect(ext.Status.FlycastIP).To(gomega.Equal(sim.IPAssignments(app)[0].IP))
	}).Should(gomega.Succeed())
}
