package gateway

import (
	"context"

	"sigs.k8s.io/controller-runtime/pkg/client"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
	"github.com/jetway-dev/jetway/internal/domain"
)

// fieldOwner is the gateway's field manager: it owns spec; the controllers
// own status.
const fieldOwner = client.FieldOwner("jetway-gateway")

// +kubebuilder:rbac:groups=jetway.dev,resources=organizations,verbs=get;list;watch;create;update;patch
// +kubebuilder:rbac:groups=core,resources=namespaces,verbs=get;create

// ensureAccount provisions, idempotently, the Organization that mirrors the
// Fly organization, its namespace, and the provisioning user as a member
// (Fly asks providers to do this along with the provisioning request).
func (s *Server) ensureAccount(ctx context.Context, req *provisionRequest) (string, error) {
	return domain.EnsureMember(ctx, s.client, s.live, fieldOwner, s.cfg.Domain.Access,
		domain.FlyOrganization{ID: *req.OrganizationID, DisplayName: deref(req.OrganizationName)},
		jetwayv1.Member{UserID: *req.UserID, Email: deref(req.UserEmail), Role: deref(req.UserRole)})
}
