package dns

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"testing"
	"time"

	"github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
	"github.com/jetway-dev/jetway/internal/domain"
)

// A name Fly provisions resolves at the zone's DNS server to the
// customer-network address Fly sent, stays while the extension changes,
// and is gone once it is deleted.
func TestProvisionedNameResolvesUntilDeleted(t *testing.T) {
	g := newG(t)
	id := uniqueID("dns")
	name := "db-" + id
	address := "fdaa:0:47fb:0:1::1d"
	fqdn := domain.DNSName(name, dnsZone)

	resp, err := flyAPI().Create(ctxFor(t), map[string]any{
		"id": id, "name": name, "organization_id": "acme", "organization_name": "Acme",
		"user_id": "user-acme", "user_email": "alias@customer.fly.io", "user_role": "admin",
		"primary_region": "iad", "ip_address": address,
	})
	if err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST %s: %v %+v", id, err, resp)
	}
	ext := waitReady(t, id)
	if ext.Status.DNSName != fqdn {
		t.Fatalf("status.dnsName = %q, want %q", ext.Status.DNSName, fqdn)
	}
	published := answerAAAA{Rcode: "NOERROR", Addresses: []string{canonical(address)}, TTL: dnsTTL}
	g.Eventually(resolve(fqdn)).Should(gomega.Equal(published), "BIND never answered %s AAAA", fqdn)

	// A change that leaves the address alone (a read region, so a new
	// generation and machines in another region) keeps the record.
	resp, err = flyAPI().Update(ctxFor(t), id, map[string]any{"read_regions": []string{"syd"}})
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("PATCH %s: %v %+v", id, err, resp)
	}
	updated := waitReady(t, id)
	if updated.Generation == ext.Generation {
		t.Fatalf("PATCH read_regions did not change the extension (generation %d)", ext.Generation)
	}
	g.Consistently(resolve(fqdn), 3*time.Second, 500*time.Millisecond).Should(gomega.Equal(published),
		"%s AAAA changed after an update that keeps its address", fqdn)

	resp, err = flyAPI().Delete(ctxFor(t), id)
	if err != nil || resp.StatusCode >= 300 {
		t.Fatalf("DELETE %s: %v %+v", id, err, resp)
	}
	g.Eventually(resolve(fqdn)).Should(gomega.Equal(answerAAAA{Rcode: "NXDOMAIN"}),
		"%s still resolves after the extension was deleted", fqdn)
}

// An extension applied with kubectl, with no customer-network address,
// is published at its Flycast address; once an operator gives it one,
// the published record moves to it.
func TestRecordFollowsTheAddress(t *testing.T) {
	g := newG(t)
	id := uniqueID("gitops")
	name := "db-" + id
	fqdn := domain.DNSName(name, dnsZone)
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: uniqueID("gitops")}}
	if err := k8s.Create(ctxFor(t), ns); err != nil {
		t.Fatalf("create namespace: %v", err)
	}
	ext := &jetwayv1.Extension{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns.Name}, Spec: jetwayv1.ExtensionSpec{
		ID: id, Name: name, PrimaryRegion: "iad",
		Organization: jetwayv1.OrganizationRef{ID: "gitops-org", Name: "GitOps Org"},
	}}
	if err := k8s.Create(ctxFor(t), ext); err != nil {
		t.Fatalf("create extension: %v", err)
	}
	t.Cleanup(func() {
		_ = k8s.Delete(context.Background(), ext)
		newG(t).Eventually(func() (*jetwayv1.Extension, error) { return extensionOf(context.Background(), id) }).
			Should(gomega.BeNil(), "extension %s was not torn down", id)
		_ = k8s.Delete(context.Background(), ns)
	})
	ready := waitReady(t, id)
	if ready.Status.FlycastIP == "" {
		t.Fatalf("Ready extension %s has no Flycast address", id)
	}
	g.Eventually(resolve(fqdn)).Should(gomega.Equal(answerAAAA{Rcode: "NOERROR", Addresses: []string{canonical(ready.Status.FlycastIP)}, TTL: dnsTTL}),
		"BIND never answered %s AAAA with the Flycast address", fqdn)

	address := "fdaa:0:47fb:0:1::2e"
	patch := client.MergeFrom(ready.DeepCopy())
	ready.Spec.IPAddress = address
	if err := k8s.Patch(ctxFor(t), ready, patch); err != nil {
		t.Fatalf("set spec.ipAddress: %v", err)
	}
	g.Eventually(resolve(fqdn)).Should(gomega.Equal(answerAAAA{Rcode: "NOERROR", Addresses: []string{canonical(address)}, TTL: dnsTTL}),
		"BIND never moved %s AAAA to the new address", fqdn)
}

// resolve asks BIND for name's AAAA, for Eventually.
func resolve(name string) func() (answerAAAA, error) {
	return func() (answerAAAA, error) {
		if err := extDNS.running(); err != nil {
			return answerAAAA{}, err
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		return resolveAAAA(ctx, bind.addr, name)
	}
}

func newG(t testing.TB) *gomega.WithT {
	g := gomega.NewWithT(t)
	g.SetDefaultEventuallyTimeout(60 * time.Second)
	g.SetDefaultEventuallyPollingInterval(200 * time.Millisecond)
	return g
}

func ctxFor(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func uniqueID(prefix string) string {
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return prefix + "-" + hex.EncodeToString(b)
}

// extensionOf finds the Extension with Fly id flyID; nil once it is gone.
func extensionOf(ctx context.Context, flyID string) (*jetwayv1.Extension, error) {
	var list jetwayv1.ExtensionList
	if err := k8s.List(ctx, &list); err != nil {
		return nil, err
	}
	for i := range list.Items {
		if list.Items[i].Spec.ID == flyID {
			return &list.Items[i], nil
		}
	}
	return nil, nil
}

func waitReady(t *testing.T, flyID string) *jetwayv1.Extension {
	t.Helper()
	var ext *jetwayv1.Extension
	newG(t).Eventually(func(g gomega.Gomega) {
		var err error
		ext, err = extensionOf(ctxFor(t), flyID)
		g.Expect(err).NotTo(gomega.HaveOccurred())
		g.Expect(ext).NotTo(gomega.BeNil())
		g.Expect(meta.IsStatusConditionTrue(ext.Status.Conditions, jetwayv1.ConditionReady)).To(gomega.BeTrue(),
			"extension %s is not Ready: %+v", flyID, ext.Status.Conditions)
		g.Expect(ext.Status.ObservedGeneration).To(gomega.Equal(ext.Generation))
	}).Should(gomega.Succeed())
	return ext
}
