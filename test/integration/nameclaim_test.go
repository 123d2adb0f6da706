package integration

import (
	"net/http"
	"sync"
	"testing"

	"github.com/onsi/gomega"
	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/jetway-dev/jetway/internal/naming"
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
	claim := client.ObjectKey{Namespace: "default", Name: naming.NameClaimLease(name)}
	g.Eventually(func() error { return k8s.Get(ctx, claim, &coordinationv1.Lease{}) }).
		Should(gomega.Satisfy(apierrors.IsNotFound), "the deleted extension's name claim")

	provision(t, provisionRequest(second, name, uniqueID("org")))
	lease := &coordinationv1.Lease{}
	g.Expect(k8s.Get(ctx, claim, lease)).To(gomega.Succeed())
	g.Expect(lease.Spec.HolderIdentity).To(gomega.HaveValue(gomega.Equal(second)))
}
