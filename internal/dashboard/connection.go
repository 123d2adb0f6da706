package dashboard

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
	"github.com/jetway-dev/jetway/internal/naming"
	"github.com/jetway-dev/jetway/internal/provision"
)

// +kubebuilder:rbac:groups=core,resources=secrets,verbs=get

// connectionDetails renders the extension's config exactly as Fly received
// it at provisioning (the plan's templates over the stored credentials), so
// the dashboard and the customer's app secrets agree. An extension whose
// credentials do not exist yet has none to show: an empty map.
func (h *Handler) connectionDetails(ctx context.Context, ext *jetwayv1.Extension) (map[string]string, error) {
	key := client.ObjectKey{Namespace: ext.Namespace, Name: naming.CredentialsSecretName(ext.Name)}
	creds, err := provision.ReadCredentials(ctx, h.live, key)
	if apierrors.IsNotFound(err) {
		return map[string]string{}, nil
	}
	if err != nil {
		return nil, err
	}
	plan, err := provision.ResolvePlan(ctx, h.client, ext.Spec.Plan)
	if err != nil {
		return nil, err
	}
	appName := naming.AppName(h.cfg.AppNamePrefix, ext.Spec.ID)
	config, err := provision.RenderConfig(plan, provision.DataFor(ext, plan, creds, appName, h.cfg.DNSZone))
	if err != nil {
		return nil, fmt.Errorf("render connection details: %w", err)
	}
	return config, nil
}
