package integration

import (
	"net/http"
	"testing"

	"github.com/onsi/gomega"
	fly "github.com/superfly/fly-go"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
	flyclient "github.com/jetway-dev/jetway/internal/fly"
)

// TestDeleteThroughGateway: Fly's DELETE tears the extension down on Fly
// and in Kubernetes; repeats answer 200 once it is gone, and the id is then
// unknown to GET and PATCH.
func TestDeleteThroughGateway(t *testing.T) {
	g := newG(t)
	ctx := ctxFor(t)
	id := uniqueID("del")
	req := provisionRequest(id, "cache-"+id, uniqueID("org"))
	req["primary_region"] = "lhr"
	req["read_regions"] = []string{"cdg"}
	provision(t, req)
	ext := waitReady(t, id)
	app := appName(id)
	g.Expect(sim.Machines(app)).NotTo(gomega.BeEmpty())
	g.Expect(sim.IPAssignments(app)).NotTo(gomega.BeEmpty())
	_, err := dnsEndpointOf(ctx, ext)
	g.Expect(err).NotTo(gomega.HaveOccurred())

	resp, err := flyAPI.Delete(ctx, id)
	g.Expect(err).NotTo(gomega.HaveOccurred())
	g.Expect(resp.StatusCode).To(gomega.Equal(http.StatusAccepted), "body: %s", resp.Body)
	g.Expect(jsonBody(t, resp)).To(gomega.HaveKeyWithValue("status", jetwayv1.PhaseDeleting))

	// Fly repeats the DELETE until it hears 200.
	g.Eventually(func(g gomega.Gomega) {
		resp, err := flyAPI.Delete(ctx, id)
		g.Expect(err).NotTo(gomega.HaveOccurred())
		g.Expect(resp.StatusCode).To(gomega.Equal(http.StatusOK), "body: %s", resp.Body)
		g.Expect(jsonBody(t, resp)).To(gomega.HaveKeyWithValue("id", id))
	}).Should(gomega.Succeed())

	// Nothing of it is left on Fly.
	for _, a := range sim.Apps() {
		g.Expect(a.Name).NotTo(gomega.Equal(app), "the Fly app still exists")
	}
	g.Expect(sim.Machines(app)).To(gomega.BeEmpty())
	g.Expect(sim.IPAssignments(app)).To(gomega.BeEmpty())
	g.Expect(sim.AllMachines()).NotTo(gomega.ContainElement(gomega.Satisfy(func(m fly.Machine) bool {
		return m.Config != nil && m.Config.Metadata[flyclient.MetaExtension] == id
	})), "a machine of the deleted extension survived")

	// Nor in Kubernetes: the Extension and its DNS record are gone.
	err = k8s.Get(ctx, client.ObjectKeyFromObject(ext), &jetwayv1.Extension{})
	g.Expect(apierrors.IsNotFound(err)).To(gomega.BeTrue(), "extension still readable: %v", err)
	_, err = dnsEndpointOf(ctx, ext)
	g.Expect(apierrors.IsNotFound(err)).To(gomega.BeTrue(), "DNS record still exists: %v", err)

	// Fly's view: gone, and deleting it again is still fine.
	resp, err = flyAPI.Get(ctx, id)
	expectError(t, resp, err, http.StatusNotFound, "deleted")
	resp, err = flyAPI.Update(ctx, id, map[string]any{"read_regions": []string{"ams"}})
	expectError(t, resp, err, http.StatusNotFound, "deleted")
	resp, err = flyAPI.Delete(ctx, id)
	g.Expect(err).NotTo(gomega.HaveOccurred())
	g.Expect(resp.StatusCode).To(gomega.Equal(http.StatusOK), "body: %s", resp.Body)
	g.Expect(sim.Machines(app)).To(gomega.BeEmpty(), "a repeated DELETE brought something back")
}

// TestUnknownID: correctly signed calls for an id Jetway never saw answer
// 404 and create nothing.
func TestUnknownID(t *testing.T) {
	ctx := ctxFor(t)
	id := uniqueID("never-seen")
	before := currentCounts(t)

	resp, err := flyAPI.Get(ctx, id)
	expectError(t, resp, err, http.StatusNotFound, "not_found")
	resp, err = flyAPI.Delete(ctx, id)
	expectError(t, resp, err, http.StatusNotFound, "not_found")
	resp, err = flyAPI.Update(ctx, id, map[string]any{"read_regions": []string{"ams"}})
	expectError(t, resp, err, http.StatusNotFound, "not_found")

	newG(t).Expect(currentCounts(t)).To(gomega.Equal(before))
}
