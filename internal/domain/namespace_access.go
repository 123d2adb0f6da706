package domain

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
)

// NamespaceAccess is how the manager reaches into the namespaces it makes,
// one per organization: its ClusterRole holds no Secrets, so it binds
// Role, a ClusterRole with the verbs it needs only there (the
// credentials Secrets), to its own ServiceAccount in each. The chart and
// config/rbac let it bind that one role and no other (verb bind, by
// resourceNames), so it can never grant itself more. A zero
// NamespaceAccess binds nothing: the manager then runs with credentials
// that already reach every namespace (`jetway-dev up`, tests).
type NamespaceAccess struct {
	// Role is the ClusterRole bound in each organization namespace; the
	// RoleBinding carries the same name.
	Role string
	// ServiceAccount and ServiceAccountNamespace name the manager's own
	// identity, the binding's only subject.
	ServiceAccount          string
	ServiceAccountNamespace string
}

// Enabled reports whether the manager binds itself in its namespaces.
func (a NamespaceAccess) Enabled() bool {
	return a.Role != "" && a.ServiceAccount != "" && a.ServiceAccountNamespace != ""
}

// grantTakesEffect bounds the wait for a new RoleBinding to be honoured:
// the API server's authorizer learns of it through its own watch, so a
// Secret created the instant after could still be refused.
const grantTakesEffect = 10 * time.Second

// Grant makes (or repairs) the RoleBinding in namespace ns and, when it
// had to write it, waits until the API server lets the manager create
// Secrets there. live reads uncached: the manager keeps no cache of
// RoleBindings, which would need a cluster-wide watch.
func (a NamespaceAccess) Grant(ctx context.Context, c client.Client, live client.Reader, owner client.FieldOwner, ns string) error {
	if !a.Enabled() {
		return nil
	}
	want := &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: a.Role, Namespace: ns, Labels: map[string]string{jetwayv1.LabelManagedBy: jetwayv1.ManagedByJetway}},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: a.Role},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: a.ServiceAccount, Namespace: a.ServiceAccountNamespace}},
	}
	// Read first: at every start the Organization controller passes here
	// for every organization, whose binding almost always exists.
	wrote, err := a.repair(ctx, c, live, owner, want)
	if apierrors.IsNotFound(err) {
		wrote, err = true, c.Create(ctx, want, owner)
		if apierrors.IsAlreadyExists(err) {
			wrote, err = a.repair(ctx, c, live, owner, want)
		}
	}
	if err == nil && !wrote {
		return nil
	}
	if err != nil {
		return fmt.Errorf("bind %s in namespace %s: %w", a.Role, ns, err)
	}
	return a.awaitSecretAccess(ctx, c, ns)
}

// RetryForbidden runs fn and, if the API server refused it and the
// manager binds itself into namespaces, grants ns and runs fn once more:
// for a namespace the manager did not make, the first use binds it.
func (a NamespaceAccess) RetryForbidden(ctx context.Context, c client.Client, live client.Reader, owner client.FieldOwner, ns string, fn func() error) error {
	err := fn()
	if !apierrors.IsForbidden(err) || !a.Enabled() {
		return err
	}
	if gerr := a.Grant(ctx, c, live, owner, ns); gerr != nil {
		return errors.Join(err, gerr)
	}
	return fn()
}

// repair makes an existing binding's subjects the manager's own again
// (a binding made by an earlier release under another ServiceAccount) and
// reports whether it wrote; NotFound passes through unwrapped.
func (a NamespaceAccess) repair(ctx context.Context, c client.Client, live client.Reader, owner client.FieldOwner, want *rbacv1.RoleBinding) (bool, error) {
	have := &rbacv1.RoleBinding{}
	if err := live.Get(ctx, client.ObjectKeyFromObject(want), have); err != nil {
		return false, err
	}
	if have.RoleRef != want.RoleRef {
		// roleRef is immutable; someone else's binding holds the name.
		return false, fmt.Errorf("RoleBinding %s/%s refers to %s %s, not ClusterRole %s", have.Namespace, have.Name, have.RoleRef.Kind, have.RoleRef.Name, a.Role)
	}
	if slices.Equal(have.Subjects, want.Subjects) {
		return false, nil
	}
	have.Subjects = want.Subjects
	return true, c.Update(ctx, have, owner)
}

// awaitSecretAccess asks the API server, as the manager, whether it may
// create Secrets in ns, until it says yes.
func (a NamespaceAccess) awaitSecretAccess(ctx context.Context, c client.Client, ns string) error {
	var denied string
	err := wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, grantTakesEffect, true, func(ctx context.Context) (bool, error) {
		review := &authorizationv1.SelfSubjectAccessReview{Spec: authorizationv1.SelfSubjectAccessReviewSpec{
			ResourceAttributes: &authorizationv1.ResourceAttributes{Namespace: ns, Verb: "create", Resource: "secrets"},
		}}
		if err := c.Create(ctx, review); err != nil {
			return false, err
		}
		denied = review.Status.Reason
		return review.Status.Allowed, nil
	})
	if err != nil {
		return fmt.Errorf("binding %s in namespace %s does not let the manager create Secrets yet (%q): %w", a.Role, ns, denied, err)
	}
	return nil
}
