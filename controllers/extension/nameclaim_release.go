package extension

import (
	"context"

	"sigs.k8s.io/controller-runtime/pkg/log"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
	"github.com/jetway-dev/jetway/internal/domain"
)

// releaseNameClaim frees the claim by which the gateway gave this extension
// its name (see domain.ReleaseNameClaim). A failure only logs: the
// tombstone written just before already frees the name. Leases are granted
// by the manager namespace's Role, as for leader election; the ClusterRole
// grants none.
func (r *Reconciler) releaseNameClaim(ctx context.Context, ext *jetwayv1.Extension) {
	if r.Settings.Domain.ClaimsNamespace == "" {
		return
	}
	if err := domain.ReleaseNameClaim(ctx, r.Client, r.APIReader, r.Settings.Domain.ClaimsNamespace, ext.Spec.Name, ext.Spec.ID); err != nil {
		log.FromContext(ctx).Info("Could not release the name claim; the tombstone frees the name anyway",
			"name", ext.Spec.Name, "error", err.Error())
	}
}
