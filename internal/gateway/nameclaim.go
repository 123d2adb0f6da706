package gateway

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
	"github.com/jetway-dev/jetway/internal/naming"
	"github.com/jetway-dev/jetway/internal/provision"
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

// claimName makes name the id's and reports whether it is. A claim held by
// another id is taken over only when that id's Extension is gone (it has a
// tombstone) or never appeared within claimGrace.
func (s *Server) claimName(ctx context.Context, name, id string) (bool, error) {
	now := metav1.NewMicroTime(time.Now())
	lease := &coordinationv1.Lease{
		ObjectMeta: metav1.ObjectMeta{
			Name: naming.NameClaimLease(name), Namespace: s.cfg.ClaimsNamespace,
			Labels:      map[string]string{jetwayv1.LabelManagedBy: jetwayv1.ManagedByJetway},
			Annotations: map[string]string{annotationClaimedName: name},
		},
		Spec: coordinationv1.LeaseSpec{HolderIdentity: &id, AcquireTime: &now},
	}
	err := s.client.Create(ctx, lease, fieldOwner)
	if err == nil {
		return true, nil
	}
	if !apierrors.IsAlreadyExists(err) {
		return false, fmt.Errorf("claim name %q: %w", name, err)
	}
	claimed := false
	err = retry.RetryOnConflict(retry.DefaultRetry, func() error {
		held := &coordinationv1.Lease{}
		if err := s.live.Get(ctx, client.ObjectKeyFromObject(lease), held); err != nil {
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
		free, err := s.claimIsStale(ctx, held, holder, name)
		if err != nil || !free {
			return err
		}
		held.Spec.HolderIdentity = &id
		held.Spec.AcquireTime = &now
		if err := s.client.Update(ctx, held, fieldOwner); err != nil {
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
func (s *Server) claimIsStale(ctx context.Context, held *coordinationv1.Lease, holder, name string) (bool, error) {
	ext, err := FindExtensionByID(ctx, s.client, s.live, holder)
	if err != nil {
		return false, err
	}
	if ext != nil {
		return naming.DNSLabel(ext.Spec.Name) != naming.DNSLabel(name), nil
	}
	tomb, err := provision.FindTombstone(ctx, s.live, holder)
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
