package integration

import (
	"encoding/json"
	"testing"

	"github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
	"github.com/jetway-dev/jetway/controllers/extension"
	"github.com/jetway-dev/jetway/controllers/notifier"
)

// TestEveryStatusFieldHasOneOwner: the Extension controller and the
// notifier each write their part of the status by server-side apply, under
// field managers of their own, and the API server's managedFields say so:
// the controller owns the phase and its conditions, the notifier the
// notification and FlyNotified, neither owns the other's, and nothing
// writes status by a plain update.
func TestEveryStatusFieldHasOneOwner(t *testing.T) {
	g := newG(t)
	ctx := ctxFor(t)
	id := uniqueID("owners")
	provision(t, provisionRequest(id, "owners-"+id, uniqueID("org")))
	ready := waitReady(t, id)
	// FlyNotified is already True while the extension is pending (Fly's
	// provisioning answer said so), before the notifier has anything in
	// status.notification: wait for Fly to acknowledge the Ready update.
	cur := &jetwayv1.Extension{}
	g.Eventually(func() *jetwayv1.NotificationStatus {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(ready), cur); err != nil {
			return nil
		}
		return cur.Status.Notification
	}).Should(gomega.HaveField("Acknowledged", gomega.Not(gomega.BeNil())))
	g.Expect(meta.FindStatusCondition(cur.Status.Conditions, jetwayv1.ConditionFlyNotified)).To(
		gomega.HaveField("Status", metav1.ConditionTrue))
	owned := map[string]map[string]any{}
	for _, mf := range cur.ManagedFields {
		if mf.Subresource != "status" {
			continue
		}
		g.Expect(mf.Operation).To(gomega.Equal(metav1.ManagedFieldsOperationApply),
			"%s wrote status by %s, not by server-side apply", mf.Manager, mf.Operation)
		var fields map[string]any
		g.Expect(json.Unmarshal(mf.FieldsV1.GetRawBytes(), &fields)).To(gomega.Succeed())
		status, _ := fields["f:status"].(map[string]any)
		owned[mf.Manager] = status
	}
	g.Expect(owned).To(gomega.HaveLen(2), "status field managers: %v", keysOf(owned))

	byController := owned[string(extension.FieldOwner)]
	g.Expect(byController).To(gomega.HaveKey("f:phase"))
	g.Expect(byController).To(gomega.HaveKey("f:appName"))
	g.Expect(byController).To(gomega.HaveKey("f:machines"))
	g.Expect(byController).NotTo(gomega.HaveKey("f:notification"))
	g.Expect(conditionsOwned(byController)).To(gomega.ContainElement(`k:{"type":"Ready"}`))
	g.Expect(conditionsOwned(byController)).NotTo(gomega.ContainElement(`k:{"type":"FlyNotified"}`))

	byNotifier := owned[string(notifier.FieldOwner)]
	g.Expect(byNotifier).To(gomega.HaveKey("f:notification"))
	g.Expect(byNotifier).NotTo(gomega.HaveKey("f:phase"))
	g.Expect(byNotifier).NotTo(gomega.HaveKey("f:observedGeneration"))
	g.Expect(conditionsOwned(byNotifier)).To(gomega.ConsistOf(`k:{"type":"FlyNotified"}`))
}

// conditionsOwned lists the condition keys a manager's status fields hold.
func conditionsOwned(status map[string]any) []string {
	conds, _ := status["f:conditions"].(map[string]any)
	var out []string
	for k := range conds {
		if k != "." {
			out = append(out, k)
		}
	}
	return out
}

func keysOf[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
