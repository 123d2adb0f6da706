package organization

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
	"github.com/jetway-dev/jetway/controllers/internal/ssa"
	"github.com/jetway-dev/jetway/internal/domain"
)

// Reconciler gives each Organization its namespace and records
// what it found in status.
type Reconciler struct {
	client.Client
	// Live reads the RoleBindings uncached (no cluster-wide watch on them).
	Live client.Reader
	// Access binds the manager into each organization namespace; every
	// Organization is reconciled at start, which also binds it into
	// namespaces made before it did so.
	Access domain.NamespaceAccess
}

// +kubebuilder:rbac:groups=jetway.dev,resources=organizations,verbs=get;list;watch
// +kubebuilder:rbac:groups=jetway.dev,resources=organizations/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=core,resources=namespaces,verbs=get;list;watch;create;patch
// The manager's own access to org namespaces (domain.NamespaceAccess): it
// may create RoleBindings, but bind only the one ClusterRole named here
// (config/rbac/managed_namespace_role.yaml; the chart renames it with the
// release), and touch again only bindings of that name.
// +kubebuilder:rbac:groups=rbac.authorization.k8s.io,resources=rolebindings,verbs=create
// +kubebuilder:rbac:groups=rbac.authorization.k8s.io,resources=rolebindings,verbs=get;update,resourceNames=jetway-managed-namespace
// +kubebuilder:rbac:groups=rbac.authorization.k8s.io,resources=clusterroles,verbs=bind,resourceNames=jetway-managed-namespace
// +kubebuilder:rbac:groups=authorization.k8s.io,resources=selfsubjectaccessreviews,verbs=create

// FieldOwner is the field manager of everything this controller writes.
const FieldOwner = client.FieldOwner("jetway-organization-controller")

// Reconcile ensures the organization's namespace exists and is labelled.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	org := &jetwayv1.Organization{}
	if err := r.Get(ctx, req.NamespacedName, org); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !org.DeletionTimestamp.IsZero() {
		// The namespace is left in place on purpose: it holds customers'
		// extensions, which must be deleted one by one through their own
		// finalizers, never by cascade from an account object.
		return ctrl.Result{}, nil
	}
	before := org.DeepCopy()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: domain.Namespace(org.Spec.ID)}}
	_, err := controllerutil.CreateOrPatch(ctx, r.Client, ns, func() error {
		if ns.Labels == nil {
			ns.Labels = map[string]string{}
		}
		ns.Labels[jetwayv1.LabelOrganization] = org.Name
		ns.Labels[jetwayv1.LabelManagedBy] = jetwayv1.ManagedByJetway
		return nil
	})
	if err == nil {
		err = r.Access.Grant(ctx, r.Client, r.Live, FieldOwner, ns.Name)
	}
	if err != nil {
		meta.SetStatusCondition(&org.Status.Conditions, metav1.Condition{Type: jetwayv1.ConditionReady, Status: metav1.ConditionFalse,
			Reason: jetwayv1.ReasonDependencyNotReady, Message: fmt.Sprintf("Namespace %s or the manager's RoleBinding in it could not be written: %v", ns.Name, err), ObservedGeneration: org.Generation})
	} else {
		org.Status.Namespace = ns.Name
		org.Status.ObservedGeneration = org.Generation
		meta.SetStatusCondition(&org.Status.Conditions, metav1.Condition{Type: jetwayv1.ConditionReady, Status: metav1.ConditionTrue,
			Reason: jetwayv1.ReasonNamespaceReady, Message: fmt.Sprintf("Extensions live in namespace %s", ns.Name), ObservedGeneration: org.Generation})
	}
	org.Status.MemberCount = len(org.Spec.Members)
	if !equality.Semantic.DeepEqual(before.Status, org.Status) {
		// The status is this controller's but for usage (the billing
		// controller's), so the apply needs no precondition: it only ever
		// states what this pass observed.
		owned := org.Status
		owned.Usage = nil
		if _, perr := ssa.ApplyStatus(ctx, r.Client, org, FieldOwner, "", owned); perr != nil {
			return ctrl.Result{}, client.IgnoreNotFound(fmt.Errorf("apply organization status: %w", perr))
		}
	}
	return ctrl.Result{}, err
}

// SetupWithManager registers the controller.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&jetwayv1.Organization{}).
		Named("organization").
		Complete(r)
}
