package gateway

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
	"github.com/jetway-dev/jetway/internal/naming"
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
	orgName := naming.OrganizationName(*req.OrganizationID)
	member := jetwayv1.Member{UserID: *req.UserID, Email: deref(req.UserEmail), Role: deref(req.UserRole)}
	if member.Role == "" {
		member.Role = "member"
	}
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		org := &jetwayv1.Organization{}
		err := s.live.Get(ctx, client.ObjectKey{Name: orgName}, org)
		if apierrors.IsNotFound(err) {
			org = &jetwayv1.Organization{
				ObjectMeta: metav1.ObjectMeta{Name: orgName, Labels: map[string]string{jetwayv1.LabelManagedBy: jetwayv1.ManagedByJetway}},
				Spec: jetwayv1.OrganizationSpec{ID: *req.OrganizationID, DisplayName: deref(req.OrganizationName),
					Members: []jetwayv1.Member{member}},
			}
			err = s.client.Create(ctx, org, fieldOwner)
			if apierrors.IsAlreadyExists(err) {
				// Lost a race with a concurrent request: read and merge.
				return apierrors.NewConflict(jetwayv1.GroupVersion.WithResource("organizations").GroupResource(), orgName, err)
			}
			return err
		}
		if err != nil {
			return err
		}
		if !upsertMember(org, member) {
			return nil
		}
		return s.client.Update(ctx, org, fieldOwner)
	})
	if err != nil {
		return "", fmt.Errorf("ensure organization %s: %w", orgName, err)
	}
	ns := naming.Namespace(*req.OrganizationID)
	// The Organization controller labels the namespace; creating it here too
	// means the answer never waits on a controller.
	nsObj := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns, Labels: map[string]string{
		jetwayv1.LabelOrganization: orgName, jetwayv1.LabelManagedBy: jetwayv1.ManagedByJetway,
	}}}
	if err := s.client.Create(ctx, nsObj, fieldOwner); err != nil && !apierrors.IsAlreadyExists(err) {
		return "", fmt.Errorf("create namespace %s: %w", ns, err)
	}
	return ns, nil
}

// upsertMember adds or refreshes a member and reports whether anything
// changed.
func upsertMember(org *jetwayv1.Organization, m jetwayv1.Member) bool {
	for i, have := range org.Spec.Members {
		if have.UserID == m.UserID {
			if have == m {
				return false
			}
			org.Spec.Members[i] = m
			return true
		}
	}
	org.Spec.Members = append(org.Spec.Members, m)
	return true
}
