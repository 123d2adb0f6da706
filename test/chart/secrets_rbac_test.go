package chart

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
	"github.com/jetway-dev/jetway/controllers/organization"
	"github.com/jetway-dev/jetway/internal/domain"
	"github.com/jetway-dev/jetway/internal/manager"
)

// chartManager is the manager's identity as the chart installs it
// (release "jetway" in jetway-system) and what the chart tells it.
var (
	chartManager = rest.ImpersonationConfig{
		UserName: "system:serviceaccount:jetway-system:jetway",
		Groups:   []string{"system:serviceaccounts", "system:serviceaccounts:jetway-system", "system:authenticated"},
	}
	chartAccess = domain.NamespaceAccess{Role: "jetway-managed-namespace", ServiceAccount: "jetway", ServiceAccountNamespace: "jetway-system"}
)

// TestChartManagerReachesOnlyItsNamespacesSecrets applies the chart to a
// real kube-apiserver and acts as the chart's ServiceAccount
// (impersonated by envtest's admin): it may not read or create a Secret
// in an unrelated namespace or kube-system, nor bind itself any role but
// its own; through the manager's own code paths (the gateway's namespace
// creation and the Organization controller, which also repairs
// namespaces made before the manager bound itself) it gets exactly the
// Secrets of the org namespaces.
func TestChartManagerReachesOnlyItsNamespacesSecrets(t *testing.T) {
	helm := tool(t, "helm")
	c := startCluster(t)
	c.kc(t, "create", "namespace", "jetway-system")
	c.apply(t, run(t, helm, helmArgs("template")...))

	ctx := context.Background()
	scheme := manager.NewScheme()
	admin, err := client.New(c.env.Config, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	asManager := rest.CopyConfig(c.env.Config)
	asManager.Impersonate = chartManager
	mgr, err := client.New(asManager, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}

	// A role with Secrets in it (envtest has no bootstrap roles such as
	// admin; a binding to a missing role grants nothing and is allowed).
	if err := admin.Create(ctx, &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "secret-reader"},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: []string{"get", "list"}}}}); err != nil {
		t.Fatal(err)
	}
	for _, ns := range []string{"unrelated", "kube-system"} {
		if ns != "kube-system" {
			if err := admin.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
				t.Fatal(err)
			}
		}
		if err := admin.Create(ctx, secret(ns, "someone-elses")); err != nil {
			t.Fatal(err)
		}
		assertForbidden(t, "get a Secret in "+ns, mgr.Get(ctx, client.ObjectKey{Namespace: ns, Name: "someone-elses"}, &corev1.Secret{}))
		assertForbidden(t, "create a Secret in "+ns, mgr.Create(ctx, secret(ns, "planted")))
		assertForbidden(t, "list Secrets in "+ns, mgr.List(ctx, &corev1.SecretList{}, client.InNamespace(ns)))
		// Binding any other role to itself would be an escalation.
		assertForbidden(t, "bind a Secret-reading role in "+ns, mgr.Create(ctx, &rbacv1.RoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: "escalate", Namespace: ns},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "secret-reader"},
			Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: "jetway", Namespace: "jetway-system"}},
		}))
	}
	assertForbidden(t, "list Secrets cluster-wide", mgr.List(ctx, &corev1.SecretList{}))

	// A new organization, as the gateway makes its namespace.
	newOrg := domain.Namespace("org-new")
	if err := domain.EnsureNamespace(ctx, mgr, mgr, "test", chartAccess, "org-new"); err != nil {
		t.Fatalf("the gateway's namespace creation, as the chart's manager: %v", err)
	}
	assertSecretsReachable(t, ctx, mgr, newOrg)
	// Idempotent: a second pass finds its binding and changes nothing.
	if err := domain.EnsureNamespace(ctx, mgr, mgr, "test", chartAccess, "org-new"); err != nil {
		t.Fatalf("second EnsureNamespace: %v", err)
	}

	// An organization whose namespace predates the binding (an upgrade):
	// the Organization controller, run at start for every Organization,
	// binds the manager there.
	old := domain.Namespace("org-old")
	if err := admin.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: old}}); err != nil {
		t.Fatal(err)
	}
	org := &jetwayv1.Organization{ObjectMeta: metav1.ObjectMeta{Name: domain.OrganizationName("org-old")}, Spec: jetwayv1.OrganizationSpec{ID: "org-old"}}
	if err := admin.Create(ctx, org); err != nil {
		t.Fatal(err)
	}
	assertForbidden(t, "get a Secret in "+old+" before the controller ran", mgr.Get(ctx, client.ObjectKey{Namespace: old, Name: "x"}, &corev1.Secret{}))
	// A binding of an earlier install under another ServiceAccount is
	// taken over, not duplicated.
	if err := admin.Create(ctx, &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: chartAccess.Role, Namespace: old},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: chartAccess.Role},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: "previous", Namespace: "jetway-system"}},
	}); err != nil {
		t.Fatal(err)
	}
	r := &organization.Reconciler{Client: mgr, Live: mgr, Access: chartAccess}
	if _, err := r.Reconcile(ctx, ctrl.Request{NamespacedName: client.ObjectKeyFromObject(org)}); err != nil {
		t.Fatalf("organization controller, as the chart's manager: %v", err)
	}
	assertSecretsReachable(t, ctx, mgr, old)

	// Someone else's binding under the manager's name is reported, not
	// overwritten (roleRef is immutable) and not trusted.
	clash := domain.Namespace("org-clash")
	if err := admin.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: clash}}); err != nil {
		t.Fatal(err)
	}
	if err := admin.Create(ctx, &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: chartAccess.Role, Namespace: clash},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "secret-reader"},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: "someone", Namespace: "elsewhere"}},
	}); err != nil {
		t.Fatal(err)
	}
	if err := domain.EnsureNamespace(ctx, mgr, mgr, "test", chartAccess, "org-clash"); err == nil || !strings.Contains(err.Error(), "refers to ClusterRole secret-reader") {
		t.Errorf("EnsureNamespace over someone else's binding: %v, want an error naming its role", err)
	}

	// Still nothing elsewhere.
	assertForbidden(t, "get a Secret in unrelated afterwards", mgr.Get(ctx, client.ObjectKey{Namespace: "unrelated", Name: "someone-elses"}, &corev1.Secret{}))
}

// assertSecretsReachable creates and reads back a Secret in ns as c.
func assertSecretsReachable(t *testing.T, ctx context.Context, c client.Client, ns string) {
	t.Helper()
	if err := c.Create(ctx, secret(ns, "credentials")); err != nil {
		t.Fatalf("create a Secret in org namespace %s: %v", ns, err)
	}
	got := &corev1.Secret{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: "credentials"}, got); err != nil {
		t.Fatalf("get a Secret in org namespace %s: %v", ns, err)
	}
	if string(got.Data["password"]) != "p" {
		t.Errorf("Secret read back in %s = %q", ns, got.Data)
	}
	rb := &rbacv1.RoleBinding{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: chartAccess.Role}, rb); err != nil {
		t.Fatalf("get the manager's RoleBinding in %s: %v", ns, err)
	}
	if len(rb.Subjects) != 1 || rb.Subjects[0].Name != chartAccess.ServiceAccount || rb.Subjects[0].Namespace != chartAccess.ServiceAccountNamespace {
		t.Errorf("RoleBinding subjects in %s = %+v, want only the chart's ServiceAccount", ns, rb.Subjects)
	}
}

func assertForbidden(t *testing.T, what string, err error) {
	t.Helper()
	if !apierrors.IsForbidden(err) {
		t.Errorf("the chart's manager may %s: err = %v, want Forbidden", what, err)
	}
}

func secret(ns, name string) *corev1.Secret {
	return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Data: map[string][]byte{"password": []byte("p")}}
}
