package integration

import (
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/onsi/gomega"
	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
	"github.com/jetway-dev/jetway/internal/domain"
)

// TestConcurrentPOSTsForOneName: Fly provisioning two extensions with the
// same name at the same moment (different ids, different organizations)
// gets exactly one 201; the others are told the name is taken, and exactly
// one Extension holds the name. Without the name claim, every POST passed
// the cache check before any Extension existed.
func TestConcurrentPOSTsForOneName(t *testing.T) {
	g := newG(t)
	ctx := ctxFor(t)
	name := "race-" + uniqueID("n")
	const racers = 8
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		codes = map[int]int{}
		ids   = make([]string, racers)
	)
	for i := range racers {
		ids[i] = uniqueID("race")
		cleanupExtension(t, ids[i])
		wg.Add(1)
		go func(id string) {
			defer wg.Done()
			resp, err := flyAPI.Create(ctx, provisionRequest(id, name, uniqueID("org")))
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				codes[-1]++
				return
			}
			codes[resp.StatusCode]++
		}(ids[i])
	}
	wg.Wait()
	g.Expect(codes).To(gomega.Equal(map[int]int{http.StatusCreated: 1, http.StatusConflict: racers - 1}))

	holders := 0
	for _, id := range ids {
		ext, err := findExtension(ctx, id)
		g.Expect(err).NotTo(gomega.HaveOccurred())
		if ext != nil {
			holders++
			g.Expect(ext.Spec.Name).To(gomega.Equal(name))
		}
	}
	g.Expect(holders).To(gomega.Equal(1), "extensions holding the name")
}

// TestNameIsFreeOnceItsExtensionIsDeleted: a deleted extension's name can
// be provisioned again at once by another id, and its claim was released.
func TestNameIsFreeOnceItsExtensionIsDeleted(t *testing.T) {
	g := newG(t)
	ctx := ctxFor(t)
	name := "reuse-" + uniqueID("n")
	first := uniqueID("first")
	provision(t, provisionRequest(first, name, uniqueID("org")))

	second := uniqueID("second")
	resp, err := flyAPI.Create(ctx, provisionRequest(second, name, uniqueID("org")))
	expectError(t, resp, err, http.StatusConflict, "name_taken")

	_, err = flyAPI.Delete(ctx, first)
	g.Expect(err).NotTo(gomega.HaveOccurred())
	g.Eventually(func() int {
		resp, err := flyAPI.Delete(ctx, first)
		if err != nil {
			return 0
		}
		return resp.StatusCode
	}).Should(gomega.Equal(http.StatusOK))
	// The deletion released the claim: claims do not pile up one per name.
	claim := client.ObjectKey{Namespace: "default", Name: domain.NameClaimLease(name)}
	g.Eventually(func() error { return k8s.Get(ctx, claim, &coordinationv1.Lease{}) }).
		Should(gomega.Satisfy(apierrors.IsNotFound), "the deleted extension's name claim")

	provision(t, provisionRequest(second, name, uniqueID("org")))
	lease := &coordinationv1.Lease{}
	g.Expect(k8s.Get(ctx, claim, lease)).To(gomega.Succeed())
	g.Expect(lease.Spec.HolderIdentity).To(gomega.HaveValue(gomega.Equal(second)))
}

// TestNamesAreUniqueInTheirDNSForm: "Twin DB x" and "twin-db-x" are two
// names with one DNS name, so the second is refused like a repeated name.
func TestNamesAreUniqueInTheirDNSForm(t *testing.T) {
	ctx := ctxFor(t)
	suffix := uniqueID("x")
	first := uniqueID("twin")
	provision(t, provisionRequest(first, "Twin DB "+suffix, uniqueID("org")))

	second := uniqueID("twin")
	cleanupExtension(t, second)
	resp, err := flyAPI.Create(ctx, provisionRequest(second, "twin-db-"+suffix, uniqueID("org")))
	expectError(t, resp, err, http.StatusConflict, "name_taken")
}

// TestGitOpsDuplicateNameStalls: an Extension applied with kubectl never
// passes the gateway's name check, so the controller makes it: the later
// of two Extensions with one DNS name is Stalled before anything is made
// on Fly, publishes no record, and tells nothing about the holder. Once
// the holder is deleted, it goes ahead by itself.
func TestGitOpsDuplicateNameStalls(t *testing.T) {
	g := newG(t)
	ctx := ctxFor(t)
	name := "dup-" + uniqueID("n")
	holder := gitopsExtensionNamed(t, uniqueID("holder"), name, "ams")
	waitReady(t, holder.Spec.ID)

	later := gitopsExtensionNamed(t, uniqueID("later"), strings.ToUpper(name), "ams")
	g.Eventually(condition(ctx, later, jetwayv1.ConditionStalled)).Should(gomega.And(
		gomega.HaveField("Status", metav1.ConditionTrue),
		gomega.HaveField("Reason", jetwayv1.ReasonDNSNameTaken)))
	cur := &jetwayv1.Extension{}
	g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(later), cur)).To(gomega.Succeed())
	g.Expect(cur.Status.Phase).To(gomega.Equal(jetwayv1.PhaseError))
	g.Expect(cur.Status.ErrorMessage).To(gomega.ContainSubstring(domain.DNSName(name, dnsZone)))
	g.Expect(cur.Status.ErrorMessage).NotTo(gomega.ContainSubstring(holder.Namespace), "the holder is not named to the customer")
	for _, app := range sim.Apps() {
		g.Expect(app.Name).NotTo(gomega.Equal(appName(later.Spec.ID)), "nothing is made on Fly for the later one")
	}
	_, err := dnsEndpointOf(ctx, later)
	g.Expect(apierrors.IsNotFound(err)).To(gomega.BeTrue(), "the later one publishes no record: %v", err)

	g.Expect(k8s.Delete(ctx, holder)).To(gomega.Succeed())
	g.Eventually(func() error { return k8s.Get(ctx, client.ObjectKeyFromObject(holder), &jetwayv1.Extension{}) }).
		Should(gomega.Satisfy(apierrors.IsNotFound))
	waitReady(t, later.Spec.ID)
}
