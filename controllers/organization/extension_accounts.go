package organization

import (
	"context"
	"fmt"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
	"github.com/jetway-dev/jetway/internal/domain"
)

// ExtensionAccounts gives an Extension applied through the Kubernetes API
// (Flux, Argo CD, kubectl apply) what the gateway gives one Fly provisions:
// the Organization that mirrors its Fly organization, that organization's
// namespace, and spec.user recorded as a member. The gateway does this
// before it writes an Extension, so for Fly's own extensions every pass
// here is answered from the cache and writes nothing.
//
// Members are a record, not a grant: the dashboard signs people in by
// what Fly's OAuth says of them, never by this list, so an Extension
// naming a user gives that user no access.
type ExtensionAccounts struct {
	Client client.Client
	// Live reads uncached before a write (see domain.EnsureMember).
	Live client.Reader
	// Access binds the manager into the namespaces this loop makes.
	Access domain.NamespaceAccess
}

// +kubebuilder:rbac:groups=jetway.dev,resources=extensions,verbs=get;list;watch
// +kubebuilder:rbac:groups=jetway.dev,resources=organizations,verbs=get;list;watch;create;update
// +kubebuilder:rbac:groups=core,resources=namespaces,verbs=get;create

// AccountsFieldOwner is the field manager of the Organizations this loop
// creates or adds members to.
const AccountsFieldOwner = client.FieldOwner("jetway-organization-accounts")

// Reconcile ensures the Organization (and member) of one Extension.
func (r *ExtensionAccounts) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	ext := &jetwayv1.Extension{}
	if err := r.Client.Get(ctx, req.NamespacedName, ext); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !ext.DeletionTimestamp.IsZero() || ext.Spec.Organization.ID == "" {
		// A deleted extension needs no account; and the CRD requires an
		// organization id, so an empty one is a half-read object.
		return ctrl.Result{}, nil
	}
	org := domain.FlyOrganization{ID: ext.Spec.Organization.ID, DisplayName: ext.Spec.Organization.Name}
	var err error
	if u := ext.Spec.User; u != nil && u.ID != "" {
		_, err = domain.EnsureMember(ctx, r.Client, r.Live, AccountsFieldOwner, r.Access, org,
			jetwayv1.Member{UserID: u.ID, Email: u.Email, Role: u.Role})
	} else {
		_, err = domain.EnsureOrganization(ctx, r.Client, r.Live, AccountsFieldOwner, r.Access, org)
	}
	if err != nil {
		return ctrl.Result{}, fmt.Errorf("account of extension %s: %w", req.NamespacedName, err)
	}
	return ctrl.Result{}, nil
}

// SetupWithManager registers the loop. Only spec changes matter (the
// organization and user are spec), so status writes do not wake it.
func (r *ExtensionAccounts) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&jetwayv1.Extension{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Named("extension-accounts").
		Complete(r)
}
