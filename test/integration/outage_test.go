package integration

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
	"github.com/jetway-dev/jetway/internal/dev/flysim"
	"github.com/jetway-dev/jetway/internal/manager"
)

// TestFlyOutage: while every Fly call fails, the extension says why and
// its status is not rewritten on every retry; when Fly comes back, it
// becomes Ready without anyone touching it.
func TestFlyOutage(t *testing.T) {
	g := newG(t)
	ctx := ctxFor(t)
	sim.SetFaults(flysim.Faults{Seed: 7, ServerErrorRate: 1})
	defer sim.SetFaults(flysim.Faults{}) // before the cleanups, which need Fly

	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: uniqueID("outage")}}
	g.Expect(k8s.Create(ctx, ns)).To(gomega.Succeed())
	t.Cleanup(func() { _ = k8s.Delete(context.Background(), ns) })
	wc, err := client.NewWithWatch(restConfig, client.Options{Scheme: manager.NewScheme()})
	g.Expect(err).NotTo(gomega.HaveOccurred())
	w, err := wc.Watch(ctx, &jetwayv1.ExtensionList{}, client.InNamespace(ns.Name))
	g.Expect(err).NotTo(gomega.HaveOccurred())
	defer w.Stop()

	id := uniqueID("outage")
	ext := &jetwayv1.Extension{
		ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: ns.Name},
		Spec: jetwayv1.ExtensionSpec{ID: id, Name: "outage-" + id,
			Organization: jetwayv1.OrganizationRef{ID: uniqueID("org")}, PrimaryRegion: "ams"},
	}
	g.Expect(k8s.Create(ctx, ext)).To(gomega.Succeed())
	cleanupExtension(t, id)

	// Count the Extension controller's status writes over 10 s of outage:
	// the retries back off exponentially, a dozen or so passes fail, each
	// with a differently worded 5xx, yet the status says the same thing
	// throughout. (Finalizers and the notifier's writes are not counted.)
	var writes int
	var seen []string // each distinct status, to show what changed if there are too many
	var last *jetwayv1.Extension
	var lastStatus string
	deadline := time.After(10 * time.Second)
count:
	for {
		select {
		case ev := <-w.ResultChan():
			if ev.Type == watch.Modified {
				last = ev.Object.(*jetwayv1.Extension)
				if st := controllerStatus(last); st != lastStatus {
					writes++
					lastStatus = st
					seen = append(seen, st)
				}
			}
		case <-deadline:
			break count
		}
	}
	g.Expect(writes).To(gomega.BeNumerically("<=", 2), "status writes during a 10 s Fly outage:\n%s", strings.Join(seen, "\n"))
	g.Expect(last).NotTo(gomega.BeNil())
	app := meta.FindStatusCondition(last.Status.Conditions, jetwayv1.ConditionAppReady)
	g.Expect(app).NotTo(gomega.BeNil())
	g.Expect(app.Reason).To(gomega.Equal(jetwayv1.ReasonFlyUnavailable))
	g.Expect(last.Status.Phase).To(gomega.Equal(jetwayv1.PhasePending))
	g.Expect(meta.IsStatusConditionTrue(last.Status.Conditions, jetwayv1.ConditionReconciling)).To(gomega.BeTrue())

	sim.SetFaults(flysim.Faults{})
	waitReady(t, id)
}

// controllerStatus renders the status the Extension controller owns.
func controllerStatus(ext *jetwayv1.Extension) string {
	st := ext.Status.DeepCopy()
	st.Notification = nil
	meta.RemoveStatusCondition(&st.Conditions, jetwayv1.ConditionFlyNotified)
	b, _ := json.Marshal(st)
	return string(b)
}
