package integration

import (
	"context"
	"testing"
	"time"

	"github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
	"github.com/jetway-dev/jetway/internal/dev/flysim"
	kstatus "sigs.k8s.io/cli-utils/pkg/kstatus/status"
)

// gitopsExtension creates an Extension through the Kubernetes API in a
// namespace of its own.
func gitopsExtension(t *testing.T, prefix, region string) *jetwayv1.Extension {
	t.Helper()
	id := uniqueID(prefix)
	return gitopsExtensionNamed(t, id, prefix+"-"+id, region)
}

// gitopsExtensionNamed is gitopsExtension with Fly id id and name name.
func gitopsExtensionNamed(t *testing.T, id, name, region string) *jetwayv1.Extension {
	t.Helper()
	g := newG(t)
	ctx := ctxFor(t)
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: uniqueID(id)}}
	g.Expect(k8s.Create(ctx, ns)).To(gomega.Succeed())
	t.Cleanup(func() { _ = k8s.Delete(context.Background(), ns) })
	ext := &jetwayv1.Extension{
		ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: ns.Name},
		Spec: jetwayv1.ExtensionSpec{ID: id, Name: name,
			Organization: jetwayv1.OrganizationRef{ID: uniqueID("org")}, PrimaryRegion: region},
	}
	g.Expect(k8s.Create(ctx, ext)).To(gomega.Succeed())
	cleanupExtension(t, id)
	return ext
}

func condition(ctx context.Context, ext *jetwayv1.Extension, condType string) func() *metav1.Condition {
	return func() *metav1.Condition {
		cur := &jetwayv1.Extension{}
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(ext), cur); err != nil {
			return nil
		}
		return meta.FindStatusCondition(cur.Status.Conditions, condType)
	}
}

// TestRejectedTokenStalls: a token Fly rejects cannot fix itself, so the
// extension is Stalled with a message and the status word "error" (which
// flyctl shows), and it is not retried in a loop. Once the token works
// again, the slow recheck (--stalled-recheck) brings it to Ready without
// anyone touching it: Fly's 401 may have been Fly's own incident.
func TestRejectedTokenStalls(t *testing.T) {
	g := newG(t)
	ctx := ctxFor(t)
	sim.SetToken("a-token-jetway-does-not-have")
	defer sim.SetToken(flyToken) // before the cleanups, which need Fly

	ext := gitopsExtension(t, "badtoken", "lhr")
	g.Eventually(condition(ctx, ext, jetwayv1.ConditionStalled)).Should(gomega.And(
		gomega.HaveField("Status", metav1.ConditionTrue),
		gomega.HaveField("Reason", jetwayv1.ReasonFlyUnauthorized)))
	cur := &jetwayv1.Extension{}
	g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(ext), cur)).To(gomega.Succeed())
	g.Expect(cur.Status.Phase).To(gomega.Equal(jetwayv1.PhaseError))
	g.Expect(cur.Status.ErrorMessage).To(gomega.ContainSubstring("token"))
	g.Expect(cur.Status.ObservedGeneration).To(gomega.Equal(cur.Generation), "Stalled is a finished pass for kstatus")
	checkKstatus(t, client.ObjectKeyFromObject(ext))
	expectGitOpsHealth(t, client.ObjectKeyFromObject(ext), argoDegraded, kstatus.FailedStatus)

	// Terminal means no retry loop: Fly sees no more requests from it.
	before := sim.Stats().Requests["app_get"]
	g.Consistently(func() int { return sim.Stats().Requests["app_get"] }, 3*time.Second, 500*time.Millisecond).
		Should(gomega.BeNumerically("<=", before+1))

	sim.SetToken(flyToken)
	waitReady(t, ext.Spec.ID)
	g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(ext), cur)).To(gomega.Succeed())
	g.Expect(cur.Generation).To(gomega.Equal(int64(1)), "nobody changed the Extension")
}

// TestCapacityErrorsAreRetried: running out of capacity is not a reason to
// give up. The extension says so, is not Stalled, and gets its machine once
// Fly has room again.
func TestCapacityErrorsAreRetried(t *testing.T) {
	g := newG(t)
	ctx := ctxFor(t)
	sim.SetFaults(flysim.Faults{Seed: 3, CapacityErrorRate: 1})
	defer sim.SetFaults(flysim.Faults{}) // before the cleanups, which need Fly

	ext := gitopsExtension(t, "capacity", "nrt")
	g.Eventually(condition(ctx, ext, jetwayv1.ConditionMachinesReady)).Should(gomega.And(
		gomega.HaveField("Status", metav1.ConditionFalse),
		gomega.HaveField("Reason", jetwayv1.ReasonInsufficientCapacity)))
	g.Expect(condition(ctx, ext, jetwayv1.ConditionStalled)()).To(gomega.BeNil())
	g.Expect(liveMachines(ext.Spec.ID)).To(gomega.BeEmpty())

	sim.SetFaults(flysim.Faults{})
	waitReady(t, ext.Spec.ID)
	g.Expect(liveMachines(ext.Spec.ID)).To(gomega.HaveLen(1))
}
