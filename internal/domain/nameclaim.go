package domain

import (
	"context"
	"fmt"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
)

// Extension names are unique per provider (they become DNS names), but
// Extensions live in their organizations' namespaces, so the API server
// cannot enforce that by itself. A name claim does: a Lease named after
// the name, in one namespace, that the first POST creates and every other
// id then finds held. The cache check before it catches the common case
// cheaply; the claim closes the race between two POSTs at the same moment,
// on the same replica or on two.

// claimGrace is how long a claim whose Extension does not exist yet is
// still respected: the POST that took it is creating the Extension.
const claimGrace = 2 * time.Minute

// annotationClaimedName records the claimed name on the Lease for people.
const annotationClaimedName = "jetway.dev/extension-name"

// ClaimName makes name the id's and reports whether it is; the gateway
// calls it on every POST. c writes the Lease in namespace as owner; live
// reads it uncached. A claim held by
// another id is taken over only when that id's Extension is gone (it has a
// tombstone) or never appeared within claimGrace.
func ClaimName(ctx context.Context, c client.Client, live client.Reader, owner client.FieldOwner, namespace, name, id string) (bool, error) {
	now := metav1.NewMicroTime(time.Now())
	lease := &coordinationv1.Lease{
		ObjectMeta: metav1.ObjectMeta{
			Name: NameClaimLease(name), Namespace: namespace,
			Labels:      map[string]string{jetwayv1.LabelManagedBy: jetwayv1.ManagedByJetway},
			Annotations: map[string]string{annotationClaimedName: name},
		},
		Spec: coordinationv1.LeaseSpec{HolderIdentity: &id, AcquireTime: &now},
	}
	claimed := false
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		err := c.Create(ctx, lease.DeepCopy(), owner)
		if err == nil {
			claimed = true
			return nil
		}
		if !apierrors.IsAlreadyExists(err) {
			return err
		}
		held := &coordinationv1.Lease{}
		if err := live.Get(ctx, client.ObjectKeyFromObject(lease), held); apierrors.IsNotFound(err) {
			// Released between the create and the read: create again.
			return apierrors.NewConflict(coordinationv1.Resource("leases"), lease.Name, err)
		} else if err != nil {
			return err
		}
		holder := ""
		if held.Spec.HolderIdentity != nil {
			holder = *held.Spec.HolderIdentity
		}
		if holder == id {
			claimed = true
			return nil
		}
		free, err := claimIsStale(ctx, c, live, held, holder, name)
		if err != nil || !free {
			return err
		}
		held.Spec.HolderIdentity = &id
		held.Spec.AcquireTime = &now
		if err := c.Update(ctx, held, owner); err != nil {
			return err // a conflict means another POST took it first: look again
		}
		claimed = true
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("claim name %q: %w", name, err)
	}
	return claimed, nil
}

// claimIsStale reports whether holder's claim on name may be taken over.
func claimIsStale(ctx context.Context, cached, live client.Reader, held *coordinationv1.Lease, holder, name string) (bool, error) {
	ext, err := FindExtensionByID(ctx, cached, live, holder)
	if err != nil {
		return false, err
	}
	if ext != nil {
		return DNSLabel(ext.Spec.Name) != DNSLabel(name), nil
	}
	tomb, err := FindTombstone(ctx, live, holder)
	if err != nil {
		return false, err
	}
	if tomb != nil {
		return true, nil // the holder was deleted: its name is free
	}
	acquired := held.CreationTimestamp.Time
	if held.Spec.AcquireTime != nil {
		acquired = held.Spec.AcquireTime.Time
	}
	return time.Since(acquired) > claimGrace, nil
}

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
	err := live.Get(ctx, client.ObjectKey{Namespace: namespace, Name: NameClaimLease(name)}, lease)
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
