package dashboard

import (
	"context"
	"fmt"
	"sort"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
	"github.com/jetway-dev/jetway/internal/domain"
)

// +kubebuilder:rbac:groups=jetway.dev,resources=organizations,verbs=get;list;watch;create;update;patch

// organizationKnown reports whether Jetway has an Organization for Fly's
// organization id.
func (h *Handler) organizationKnown(ctx context.Context, orgID string) (bool, error) {
	err := h.live.Get(ctx, client.ObjectKey{Name: domain.OrganizationName(orgID)}, &jetwayv1.Organization{})
	switch {
	case err == nil:
		return true, nil
	case apierrors.IsNotFound(err):
		return false, nil
	default:
		return false, fmt.Errorf("get organization %s: %w", orgID, err)
	}
}

// extensionsOf lists an organization's extensions by name.
func (h *Handler) extensionsOf(ctx context.Context, orgID string) ([]jetwayv1.Extension, error) {
	var list jetwayv1.ExtensionList
	if err := h.client.List(ctx, &list, client.MatchingFields{domain.IndexOrganizationID: orgID}); err != nil {
		return nil, fmt.Errorf("list extensions of organization %s: %w", orgID, err)
	}
	sort.Slice(list.Items, func(i, j int) bool { return list.Items[i].Spec.Name < list.Items[j].Spec.Name })
	return list.Items, nil
}
