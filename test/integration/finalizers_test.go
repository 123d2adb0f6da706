package integration

import (
	"encoding/json"
	"testing"

	"github.com/onsi/gomega"
	"sigs.k8s.io/controller-runtime/pkg/client"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
	"github.com/jetway-dev/jetway/internal/domain"
)

// TestGatewayCreatesWithFinalizers: an Extension Fly provisions is created
// holding both controllers' finalizers, so neither controller spends a
// write (and a race with the other) adding its own. The managedFields say
// who set them: the gateway, at create.
func TestGatewayCreatesWithFinalizers(t *testing.T) {
	g := newG(t)
	ctx := ctxFor(t)
	id := uniqueID("fin")
	org := uniqueID("org")
	provision(t, provisionRequest(id, "fin-"+id, org))

	ext := &jetwayv1.Extension{}
	key := client.ObjectKey{Namespace: domain.Namespace(org), Name: domain.ExtensionName(id)}
	g.Expect(k8s.Get(ctx, key, ext)).To(gomega.Succeed())
	g.Expect(ext.Finalizers).To(gomega.ConsistOf(jetwayv1.Finalizer, jetwayv1.NotifyFinalizer))
	setBy := []string{}
	for _, mf := range ext.ManagedFields {
		if mf.Subresource != "" {
			continue
		}
		var fields map[string]any
		g.Expect(json.Unmarshal(mf.FieldsV1.GetRawBytes(), &fields)).To(gomega.Succeed())
		meta, _ := fields["f:metadata"].(map[string]any)
		if _, ok := meta["f:finalizers"]; ok {
			setBy = append(setBy, mf.Manager)
		}
	}
	g.Expect(setBy).To(gomega.Equal([]string{"jetway-gateway"}), "finalizers set by")
}
