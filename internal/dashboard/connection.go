package dashboard

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
	"github.com/jetway-dev/jetway/internal/domain"
)

// Credentials Secrets are read through the Role the manager binds in each
// org namespace (domain.NamespaceAccess); the ClusterRole holds none.

// connectionDetails renders the extension's config exactly as Fly received
// it at provisioning (the plan's templates over the stored credentials), so
// the dashboard and the customer's app secrets agree. An extension whose
// credentials do not exist yet has none to show: an empty map.
func (h *Handler) connectionDetails(ctx context.Context, ext *jetwayv1.Extension) (map[string]string, error) {
	key := client.ObjectKey{Namespace: ext.Namespace, Name: domain.CredentialsSecretName(ext.Name)}
	creds, err := domain.ReadCredentials(ctx, h.live, key)
	if apierrors.IsNotFound(err) {
		return map[string]string{}, nil
	}
	if err != nil {
		return nil, err
	}
	plan, err := domain.ResolvePlan(ctx, h.client, ext.Spec.Plan)
	if err != nil {
		return nil, err
	}
	appName := h.cfg.Domain.AppName(ext.Spec.ID)
	config, err := domain.RenderConfig(plan, domain.DataFor(ext, plan, creds, appName, h.cfg.Domain.DNSZone))
	if err != nil {
		return nil, fmt.Errorf("render connection details: %w", err)
	}
	return config, nil
}
