package integration

import (
	"net/http"
	"testing"
	"time"

	"github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
	"github.com/jetway-dev/jetway/internal/dev/flysim"
)

// delivered is what Fly received about one extension, duplicates dropped
// (Fly de-duplicates by delivery_id), as "action:status" in order.
func delivered(flyID string) []string {
	var out []string
	for _, d := range sim.WebhookDeliveries() {
		if d.ResourceID == flyID && !d.Duplicate {
			status, _ := d.Resource["status"].(string)
			out = append(out, d.Action+":"+status)
		}
	}
	return out
}

func deleteThroughFly(t *testing.T, id string) {
	t.Helper()
	resp, err := flyAPI.Delete(ctxFor(t), id)
	if err != nil || resp.StatusCode != http.StatusAccepted {
		t.Fatalf("DELETE %s: %v %v", id, err, resp)
	}
}

// TestWebhooksTellFlyEachChange: Fly hears exactly what it needs. For an
// extension it created, no "created" (its own answer said pending), one
// "updated" when it becomes ready, and "deleted" when it is gone. One it
// did not create (GitOps) is announced with "created".
func TestWebhooksTellFlyEachChange(t *testing.T) {
	g := newG(t)
	id := uniqueID("hook")
	provision(t, provisionRequest(id, "hook-"+id, uniqueID("org")))
	waitReady(t, id)
	g.Eventually(func() []string { return delivered(id) }).Should(gomega.Equal([]string{"resource.updated:ready"}))
	g.Consistently(func() []string { return delivered(id) }, 2*time.Second).Should(gomega.HaveLen(1),
		"a resync that changes nothing tells Fly nothing")

	deleteThroughFly(t, id)
	g.Eventually(func() (*jetwayv1.Extension, error) { return findExtension(ctxFor(t), id) }).Should(gomega.BeNil())
	got := delivered(id)
	g.Expect(got[len(got)-1]).To(gomega.HavePrefix("resource.deleted:"), "the last word Fly hears is deleted: %v", got)
	g.Expect(got).To(gomega.HaveLen(2), "updated(deleting) is superseded by deleted, not sent as well: %v", got)

	ext := gitopsExtension(t, "hookgitops", "yyz")
	waitReady(t, ext.Spec.ID)
	g.Eventually(func() []string { return delivered(ext.Spec.ID) }).Should(gomega.SatisfyAny(
		gomega.Equal([]string{"resource.created:pending", "resource.updated:ready"}),
		gomega.Equal([]string{"resource.created:ready"})))
	for _, d := range sim.WebhookDeliveries() {
		if d.ResourceID == ext.Spec.ID && d.Action == "resource.created" {
			g.Expect(d.Resource).To(gomega.HaveKey("organization_id"))
		}
	}
}

// TestWebhookOutage: while Fly's webhook endpoint fails, the extension still
// becomes Ready, says Fly is not notified, and records a Warning event;
// once the endpoint is back, the notification arrives exactly once.
func TestWebhookOutage(t *testing.T) {
	g := newG(t)
	ctx := ctxFor(t)
	sim.SetWebhookFailure(flysim.WebhookFailure{Status: 503, Until: time.Now().Add(4 * time.Second)})
	defer sim.SetWebhookFailure(flysim.WebhookFailure{}) // before the cleanups, which need Fly

	id := uniqueID("outage")
	provision(t, provisionRequest(id, "hookout-"+id, uniqueID("org")))
	ready := waitReady(t, id)
	g.Eventually(condition(ctx, ready, jetwayv1.ConditionFlyNotified)).Should(
		gomega.HaveField("Reason", jetwayv1.ReasonWebhookFailing))
	g.Expect(delivered(id)).To(gomega.BeEmpty())

	g.Eventually(func() []string { return delivered(id) }).Should(gomega.Equal([]string{"resource.updated:ready"}))
	g.Eventually(condition(ctx, ready, jetwayv1.ConditionFlyNotified)).Should(
		gomega.HaveField("Status", metav1.ConditionTrue))
}

// TestWebhookSurvivesRestart: a notification still being retried when the
// manager restarts is delivered by the next one; nothing is lost.
func TestWebhookSurvivesRestart(t *testing.T) {
	g := newG(t)
	ctx := ctxFor(t)
	sim.SetWebhookFailure(flysim.WebhookFailure{Status: 500, Until: time.Now().Add(time.Hour)})
	defer sim.SetWebhookFailure(flysim.WebhookFailure{}) // before the cleanups, which need Fly

	id := uniqueID("restart")
	provision(t, provisionRequest(id, "hookrs-"+id, uniqueID("org")))
	ready := waitReady(t, id)
	g.Eventually(func() int32 {
		cur := &jetwayv1.Extension{}
		_ = k8s.Get(ctx, client.ObjectKeyFromObject(ready), cur)
		if n := cur.Status.Notification; n != nil && n.Pending != nil {
			return n.Pending.Attempts
		}
		return 0
	}).Should(gomega.BeNumerically(">=", 2), "the pending notification and its attempts are in status")

	restartManager(t)
	sim.SetWebhookFailure(flysim.WebhookFailure{})
	g.Eventually(func() []string { return delivered(id) }).Should(gomega.Equal([]string{"resource.updated:ready"}))
}

// TestDeletionWaitsForFly: the Extension is not gone until Fly has
// acknowledged resource.deleted.
func TestDeletionWaitsForFly(t *testing.T) {
	g := newG(t)
	ctx := ctxFor(t)
	id := uniqueID("delwait")
	provision(t, provisionRequest(id, "hookdel-"+id, uniqueID("org")))
	waitReady(t, id)
	g.Eventually(func() []string { return delivered(id) }).Should(gomega.HaveLen(1))

	sim.SetWebhookFailure(flysim.WebhookFailure{Status: 503, Until: time.Now().Add(time.Hour)})
	defer sim.SetWebhookFailure(flysim.WebhookFailure{}) // before the cleanups, which need Fly
	deleteThroughFly(t, id)
	g.Eventually(func() []string {
		ext, _ := findExtension(ctx, id)
		if ext == nil {
			return nil
		}
		return ext.Finalizers
	}).Should(gomega.Equal([]string{jetwayv1.NotifyFinalizer}), "teardown done, waiting only on Fly")
	g.Consistently(func() (*jetwayv1.Extension, error) { return findExtension(ctx, id) }, 2*time.Second).ShouldNot(gomega.BeNil())
	g.Expect(liveMachines(id)).To(gomega.BeEmpty())

	sim.SetWebhookFailure(flysim.WebhookFailure{})
	g.Eventually(func() (*jetwayv1.Extension, error) { return findExtension(ctx, id) }).Should(gomega.BeNil())
	got := delivered(id)
	g.Expect(got[len(got)-1]).To(gomega.HavePrefix("resource.deleted:"))
}
