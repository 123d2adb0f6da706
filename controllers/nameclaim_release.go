package controllers

import (
	"context"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
	"github.com/jetway-dev/jetway/internal/naming"
)

// releaseNameClaim deletes the Lease by which the gateway gave this
// extension its name, so claims do not pile up one per name ever used.
//
// It is housekeeping, not correctness: the tombstone written just before
// already frees the name (a claim whose holder is tombstoned may be taken
// over), so a failure is logged and never holds up the deletion. The Lease
// is read live (Leases are not cached: that would need a cluster-wide
// watch) and deleted only if this id still holds it, under a UID and
// resourceVersion precondition, so a POST that took the name over a moment
// ago keeps it. Leases are granted by the manager namespace's Role, as for
// leader election; the ClusterRole grants none.
func (r *ExtensionReconciler) releaseNameClaim(ctx context.Context, ext *jetwayv1.Extension) {
	if r.Settings.ClaimsNamespace == "" {
		return
	}
	key := client.ObjectKey{Namespace: r.Settings.ClaimsNamespace, Name: naming.NameClaimLease(ext.Spec.Name)}
	lease := &coordinationv1.Lease{}
	err := r.APIReader.Get(ctx, key, lease)
	if err == nil {
		if lease.Spec.HolderIdentity == nil || *lease.Spec.HolderIdentity != ext.Spec.ID {
			return // another id holds the name now, or GitOps made this extension without a claim
		}
		err = r.Delete(ctx, lease, client.Preconditions{UID: &lease.UID, ResourceVersion: &lease.ResourceVersion})
	}
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		log.FromContext(ctx).Info("Could not release the name claim; the tombstone frees the name anyway",
			"lease", key.String(), "error", err.Error())
	}
}
