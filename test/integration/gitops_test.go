package integration

import (
	"context"
	"net/http"
	"testing"

	"github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
	"github.com/jetway-dev/jetway/internal/domain"
)

// TestGitOpsExtension: an Extension applied with the Kubernetes API (as
// Flux, Argo CD or kubectl apply would), in a namespace of the operator's
// choosing, runs exactly like one Fly created, and Fly can read it.
func TestGitOpsExtension(t *testing.T) {
	g := newG(t)
	ctx := ctxFor(t)
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: uniqueID("gitops")}}
	g.Expect(k8s.Create(ctx, ns)).To(gomega.Succeed())
	t.Cleanup(func() { _ = k8s.Delete(context.Background(), ns) })

	id := uniqueID("gitops")
	ext := &jetwayv1.Extension{
		ObjectMeta: metav1.ObjectMeta{Name: "search", Namespace: ns.Name},
		Spec: jetwayv1.ExtensionSpec{
			ID:            id,
			Name:          "search-" + id,
			Organization:  jetwayv1.OrganizationRef{ID: uniqueID("org"), Name: "Platform team"},
			PrimaryRegion: "gru",
			ReadRegions:   []string{"eze"},
		},
	}
	g.Expect(k8s.Create(ctx, ext)).To(gomega.Succeed())
	cleanupExtension(t, id)

	ready := waitReady(t, id)
	g.Expect(ready.Namespace).To(gomega.Equal(ns.Name))
	g.Expect(ready.Finalizers).To(gomega.ContainElement(jetwayv1.Finalizer))
	g.Expect(ready.Status.AppName).To(gomega.Equal(appName(id)))
	g.Expect(ready.Status.Phase).To(gomega.Equal(jetwayv1.PhaseReady))
	g.Expect(ready.Status.Machines).To(gomega.HaveLen(2))
	g.Eventually(func() []string { return keys(placement(liveMachines(id))) }).Should(
		gomega.ConsistOf("primary/gru", "replica/eze"))
	g.Expect(ready.Status.Machines).To(gomega.ConsistOf(
		gomega.HaveField("ID", placement(liveMachines(id))["primary/gru"]),
		gomega.HaveField("ID", placement(liveMachines(id))["replica/eze"]),
	), "status.machines names the machines on Fly")

	// Without a customer-network address the record points at Flycast.
	g.Expect(ready.Status.FlycastIP).NotTo(gomega.BeEmpty())
	ep, err := dnsEndpointOf(ctx, ready)
	g.Expect(err).NotTo(gomega.HaveOccurred())
	g.Expect(ep.Spec.Endpoints).To(gomega.HaveLen(1))
	g.Expect(ep.Spec.Endpoints[0].DNSName).To(gomega.Equal(domain.DNSName(ext.Spec.Name, dnsZone)))
	g.Expect(ep.Spec.Endpoints[0].RecordType).To(gomega.Equal("AAAA"))
	g.Expect(ep.Spec.Endpoints[0].Targets).To(gomega.ConsistOf(ready.Status.FlycastIP))
	g.Expect(metav1.IsControlledBy(ep, ready)).To(gomega.BeTrue(), "the DNSEndpoint is owned by its Extension")
	// ... which customers' apps cannot reach: the condition says so.
	dns := meta.FindStatusCondition(ready.Status.Conditions, jetwayv1.ConditionDNSReady)
	g.Expect(dns).NotTo(gomega.BeNil())
	g.Expect(dns.Reason).To(gomega.Equal(jetwayv1.ReasonProviderAddressOnly))
	g.Expect(dns.Message).To(gomega.ContainSubstring("customers' apps cannot reach"))

	// Fly's GET finds it like any other.
	g.Eventually(func(g gomega.Gomega) {
		resp, err := flyAPI.Get(ctx, id)
		g.Expect(err).NotTo(gomega.HaveOccurred())
		g.Expect(resp.StatusCode).To(gomega.Equal(http.StatusOK), "body: %s", resp.Body)
		g.Expect(jsonBody(t, resp)).To(gomega.HaveKeyWithValue("status", jetwayv1.PhaseReady))
		g.Expect(jsonBody(t, resp)).To(gomega.HaveKeyWithValue("address_note", domain.ProviderAddressNote), "GET says why there is no ip_address")
	}).Should(gomega.Succeed())

	// Its Fly organization gets an Organization, as the gateway gives one
	// Fly provisions; no spec.user, so no member.
	g.Eventually(func(g gomega.Gomega) {
		org := &jetwayv1.Organization{}
		g.Expect(k8s.Get(ctx, client.ObjectKey{Name: domain.OrganizationName(ext.Spec.Organization.ID)}, org)).To(gomega.Succeed())
		g.Expect(org.Spec.ID).To(gomega.Equal(ext.Spec.Organization.ID))
		g.Expect(org.Spec.DisplayName).To(gomega.Equal("Platform team"))
		g.Expect(org.Spec.Members).To(gomega.BeEmpty())
		g.Expect(org.Status.Namespace).To(gomega.Equal(domain.Namespace(ext.Spec.Organization.ID)))
	}).Should(gomega.Succeed())

	// kubectl delete tears it down on Fly too.
	g.Expect(k8s.Delete(ctx, ready)).To(gomega.Succeed())
	g.Eventually(func() error {
		return k8s.Get(ctx, client.ObjectKeyFromObject(ready), &jetwayv1.Extension{})
	}).Should(gomega.Satisfy(func(err error) bool { return client.IgnoreNotFound(err) == nil && err != nil }))
	g.Expect(sim.Machines(appName(id))).To(gomega.BeEmpty())
}
