package provision

import (
	"context"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/jetway-dev/jetway/internal/naming"
)

// ReleaseNameClaim deletes the Lease by which the gateway gave id the
// extension name name, so claims do not pile up one per name ever used.
// Whoever tears an extension down calls it after writing the tombstone:
// the controller, or the gateway for an Extension deleted before its
// first reconcile.
//
// It is housekeeping, not correctness: the tombstone already frees the
// name (a claim whose holder is tombstoned may be taken over), so callers
// log a failure and go on. The Lease is read live (Leases are not cached:
// that would need a cluster-wide watch) and deleted only if id still holds
// it, under a UID and resourceVersion precondition, so a POST that took
// the name over a moment ago keeps it. A claim that is gone, or held by
// another id, is not an error.
func ReleaseNameClaim(ctx context.Context, c client.Client, live client.Reader, namespace, name, id string) error {
	lease := &coordinationv1.Lease{}
	err := live.Get(ctx, client.ObjectKey{Namespace: namespace, Name: naming.NameClaimLease(name)}, lease)
	if err == nil {
		if lease.Spec.HolderIdentity == nil || *lease.Spec.HolderIdentity != id {
			return nil // another id holds the name now, or GitOps made this extension without a claim
		}
		err = c.Delete(ctx, lease, client.Preconditions{UID: &lease.UID, ResourceVersion: &lease.ResourceVersion})
	}
	if apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
		return nil
	}
	return err
}
