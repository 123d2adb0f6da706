package integration

import (
	"context"
	"testing"
	"time"

	"github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
)

// TestPausedExtensionIsLeftAlone: an Extension annotated jetway.dev/paused
// gets no finalizer, no status and nothing on Fly while the annotation
// stays; once it goes, the extension is reconciled as any other.
func TestPausedExtensionIsLeftAlone(t *testing.T) {
	g := newG(t)
	ctx := ctxFor(t)
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: uniqueID("paused")}}
	g.Expect(k8s.Create(ctx, ns)).To(gomega.Succeed())
	t.Cleanup(func() { _ = k8s.Delete(context.Background(), ns) })

	id := uniqueID("paused")
	ext := &jetwayv1.Extension{
		ObjectMeta: metav1.ObjectMeta{Name: "held", Namespace: ns.Name,
			Annotations: map[string]string{jetwayv1.AnnotationPaused: "true"}},
		Spec: jetwayv1.ExtensionSpec{ID: id, Name: "held-" + id,
			Organization: jetwayv1.OrganizationRef{ID: uniqueID("org")}, PrimaryRegion: "iad"},
	}
	g.Expect(k8s.Create(ctx, ext)).To(gomega.Succeed())
	cleanupExtension(t, id)

	g.Consistently(func() []string {
		cur := &jetwayv1.Extension{}
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(ext), cur); err != nil {
			return []string{err.Error()}
		}
		var touched []string
		if len(cur.Finalizers) > 0 {
			touched = append(touched, "finalizers")
		}
		if len(cur.Status.Conditions) > 0 {
			touched = append(touched, "status")
		}
		if len(sim.Machines(appName(id))) > 0 {
			touched = append(touched, "machines on Fly")
		}
		return touched
	}, 3*time.Second, 200*time.Millisecond).Should(gomega.BeEmpty(), "a paused extension must be left alone")

	cur := &jetwayv1.Extension{}
	g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(ext), cur)).To(gomega.Succeed())
	delete(cur.Annotations, jetwayv1.AnnotationPaused)
	g.Expect(k8s.Update(ctx, cur)).To(gomega.Succeed())
	waitReady(t, id)
}
