package organization

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
	"github.com/jetway-dev/jetway/internal/domain"
)

func newScheme(t *testing.T) *runtime.Scheme {
	t.Helper()
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{corev1.AddToScheme, jetwayv1.AddToScheme} {
		if err := add(s); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

func gitopsExtension(user *jetwayv1.ProvisioningUser) *jetwayv1.Extension {
	return &jetwayv1.Extension{
		ObjectMeta: metav1.ObjectMeta{Name: "search", Namespace: "platform"},
		Spec: jetwayv1.ExtensionSpec{ID: "ext-1", Name: "search", PrimaryRegion: "iad",
			Organization: jetwayv1.OrganizationRef{ID: "org-fly-1", Name: "Platform team"}, User: user},
	}
}

// TestExtensionAccounts: what the loop leaves in the API server for an
// Extension applied by GitOps, from nothing or beside what the gateway
// recorded.
func TestExtensionAccounts(t *testing.T) {
	alice := jetwayv1.Member{UserID: "u-alice", Email: "alice@example.fly", Role: "admin"}
	cases := []struct {
		name     string
		existing []jetwayv1.Member // nil: no Organization yet
		user     *jetwayv1.ProvisioningUser
		deleted  bool
		want     []jetwayv1.Member // nil with wantOrg false: none made
		wantOrg  bool
	}{
		{name: "no user: an Organization without members", wantOrg: true},
		{name: "a user becomes its member", user: &jetwayv1.ProvisioningUser{ID: "u-bob", Email: "bob@example.fly", Role: "member"},
			want: []jetwayv1.Member{{UserID: "u-bob", Email: "bob@example.fly", Role: "member"}}, wantOrg: true},
		{name: "the gateway's members are kept", existing: []jetwayv1.Member{alice},
			user: &jetwayv1.ProvisioningUser{ID: "u-bob", Role: "member"},
			want: []jetwayv1.Member{alice, {UserID: "u-bob", Role: "member"}}, wantOrg: true},
		{name: "no user leaves an existing Organization as it is", existing: []jetwayv1.Member{alice},
			want: []jetwayv1.Member{alice}, wantOrg: true},
		{name: "a deleted extension makes nothing", deleted: true,
			user: &jetwayv1.ProvisioningUser{ID: "u-bob"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ext := gitopsExtension(tc.user)
			if tc.deleted {
				now := metav1.NewTime(time.Now())
				ext.DeletionTimestamp = &now
				ext.Finalizers = []string{jetwayv1.Finalizer}
			}
			b := fake.NewClientBuilder().WithScheme(newScheme(t)).WithObjects(ext)
			if tc.existing != nil {
				b = b.WithObjects(&jetwayv1.Organization{
					ObjectMeta: metav1.ObjectMeta{Name: domain.OrganizationName("org-fly-1")},
					Spec:       jetwayv1.OrganizationSpec{ID: "org-fly-1", DisplayName: "Set by the gateway", Members: tc.existing},
				})
			}
			c := b.Build()
			r := &ExtensionAccounts{Client: c, Live: c}
			if _, err := r.Reconcile(context.Background(), ctrl.Request{NamespacedName: client.ObjectKeyFromObject(ext)}); err != nil {
				t.Fatalf("Reconcile: %v", err)
			}

			org := &jetwayv1.Organization{}
			err := c.Get(context.Background(), client.ObjectKey{Name: domain.OrganizationName("org-fly-1")}, org)
			if !tc.wantOrg {
				if err == nil {
					t.Fatalf("an Organization was made: %+v", org.Spec)
				}
				return
			}
			if err != nil {
				t.Fatalf("no Organization: %v", err)
			}
			if diff := cmp.Diff(tc.want, org.Spec.Members); diff != "" {
				t.Errorf("members (-want +got):\n%s", diff)
			}
			wantName := "Platform team"
			if tc.existing != nil {
				wantName = "Set by the gateway"
			}
			if org.Spec.DisplayName != wantName {
				t.Errorf("display name %q, want %q", org.Spec.DisplayName, wantName)
			}
			if err := c.Get(context.Background(), client.ObjectKey{Name: domain.Namespace("org-fly-1")}, &corev1.Namespace{}); tc.existing == nil && err != nil {
				t.Errorf("the organization's namespace was not made: %v", err)
			}
		})
	}
}
