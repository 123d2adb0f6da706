// Accounts keep the provider-side mirror of Fly organizations and
// their members. Fly asks providers to provision a user into the
// organization on the provisioning call and again on SSO sign-in, so both the
// gateway and the dashboard record members here, idempotently.

package domain

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
)

// Roles Fly gives organization members. Anything else Fly might send is
// recorded as RoleMember: least privilege until we know what it means.
const (
	RoleAdmin  = "admin"
	RoleMember = "member"
)

// NormalizeRole maps Fly's role word onto the two roles Jetway knows.
func NormalizeRole(role string) string {
	if role == RoleAdmin {
		return RoleAdmin
	}
	return RoleMember
}

// FlyOrganization identifies a Fly organization.
type FlyOrganization struct {
	ID          string
	DisplayName string // empty keeps what is recorded
}

// EnsureMember records member in the Organization that mirrors org,
// creating the Organization if it does not exist, and returns the namespace
// that holds the organization's extensions (created too, so a caller never
// waits on the Organization controller). c writes and its cache answers the
// common case, a member already recorded, with no API call; live reads
// uncached before a write, so a concurrent writer is seen and merged rather
// than overwritten.
//
// The namespace is made before the member is recorded, so a recorded
// member means the namespace was made; one deleted since (or an
// Organization applied by hand) is made again by EnsureNamespace when a
// create in it finds it missing.
func EnsureMember(ctx context.Context, c client.Client, live client.Reader, owner client.FieldOwner, access NamespaceAccess, org FlyOrganization, member jetwayv1.Member) (string, error) {
	member.Role = NormalizeRole(member.Role)
	return ensureAccount(ctx, c, live, owner, access, org, &member)
}

// EnsureOrganization is EnsureMember for an extension that names no
// provisioning user (one applied by GitOps without spec.user): the
// Organization is created if it does not exist, with no member, and one
// that exists is left as it is.
func EnsureOrganization(ctx context.Context, c client.Client, live client.Reader, owner client.FieldOwner, access NamespaceAccess, org FlyOrganization) (string, error) {
	return ensureAccount(ctx, c, live, owner, access, org, nil)
}

// ensureAccount makes the namespace and the Organization of org, and
// records member in it unless member is nil.
func ensureAccount(ctx context.Context, c client.Client, live client.Reader, owner client.FieldOwner, access NamespaceAccess, org FlyOrganization, member *jetwayv1.Member) (string, error) {
	ns := Namespace(org.ID)
	if recorded, err := accountRecorded(ctx, c, org.ID, member); err != nil || recorded {
		return ns, err
	}
	if err := EnsureNamespace(ctx, c, live, owner, access, org.ID); err != nil {
		return "", err
	}
	orgName := OrganizationName(org.ID)
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		obj := &jetwayv1.Organization{}
		err := live.Get(ctx, client.ObjectKey{Name: orgName}, obj)
		if apierrors.IsNotFound(err) {
			obj = &jetwayv1.Organization{
				ObjectMeta: metav1.ObjectMeta{Name: orgName, Labels: map[string]string{jetwayv1.LabelManagedBy: jetwayv1.ManagedByJetway}},
				Spec:       jetwayv1.OrganizationSpec{ID: org.ID, DisplayName: org.DisplayName},
			}
			if member != nil {
				obj.Spec.Members = []jetwayv1.Member{*member}
			}
			err = c.Create(ctx, obj, owner)
			if apierrors.IsAlreadyExists(err) {
				// Lost a race with a concurrent request: read and merge.
				return apierrors.NewConflict(jetwayv1.GroupVersion.WithResource("organizations").GroupResource(), orgName, err)
			}
			return err
		}
		if err != nil {
			return err
		}
		if member == nil || !UpsertMember(obj, *member) {
			return nil
		}
		return c.Update(ctx, obj, owner)
	})
	if err != nil {
		return "", fmt.Errorf("ensure organization %s: %w", orgName, err)
	}
	return ns, nil
}

// accountRecorded reports whether the cached Organization for orgID
// exists and, unless member is nil, already holds member exactly as given.
func accountRecorded(ctx context.Context, cached client.Reader, orgID string, member *jetwayv1.Member) (bool, error) {
	obj := &jetwayv1.Organization{}
	if err := cached.Get(ctx, client.ObjectKey{Name: OrganizationName(orgID)}, obj); err != nil {
		return false, client.IgnoreNotFound(err)
	}
	return member == nil || !UpsertMember(obj, *member), nil
}

// EnsureNamespace makes the namespace that holds orgID's extensions, if it
// is not there, and binds the manager into it (access).
func EnsureNamespace(ctx context.Context, c client.Client, live client.Reader, owner client.FieldOwner, access NamespaceAccess, orgID string) error {
	ns := Namespace(orgID)
	nsObj := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns, Labels: map[string]string{
		jetwayv1.LabelOrganization: OrganizationName(orgID), jetwayv1.LabelManagedBy: jetwayv1.ManagedByJetway,
	}}}
	if err := c.Create(ctx, nsObj, owner); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create namespace %s: %w", ns, err)
	}
	return access.Grant(ctx, c, live, owner, ns)
}

// UpsertMember adds or refreshes a member and reports whether anything
// changed.
func UpsertMember(org *jetwayv1.Organization, m jetwayv1.Member) bool {
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
