package integration

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"sync"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/yaml"

	"github.com/jetway-dev/jetway/internal/domain"
)

// managerUser is who the manager under test is: bound to the generated
// ClusterRole and leader-election Role and nothing else, so every test in
// the suite also proves that the RBAC Jetway ships is enough. The API
// server envtest starts authorizes with RBAC; its admin would hide a
// missing verb (a cache of a kind it may list but not watch never syncs).
// It is a ServiceAccount's user name (its client certificate says so), so
// the RoleBindings the manager makes for itself in each org namespace
// (managerAccess) apply to it as they do in a cluster.
const managerUser = "system:serviceaccount:" + managerSANamespace + ":" + managerSA

const (
	managerSA          = "jetway-manager-under-test"
	managerSANamespace = "default"
)

// managerAccess is how the manager under test binds itself into org
// namespaces, with config/rbac's role: its ClusterRole holds no Secrets.
var managerAccess = domain.NamespaceAccess{Role: "jetway-managed-namespace", ServiceAccount: managerSA, ServiceAccountNamespace: managerSANamespace}

// leastPrivilegeConfig creates Jetway's roles from config/rbac, binds them
// to managerUser (the leader-election Role in claimsNamespace, where the
// name-claim Leases live too), and returns a config that authenticates as
// that user.
func leastPrivilegeConfig(ctx context.Context, env *envtest.Environment, admin client.Client, claimsNamespace string) (*rest.Config, error) {
	cluster := &rbacv1.ClusterRole{}
	if err := readYAML("../../config/rbac/role.yaml", cluster); err != nil {
		return nil, err
	}
	orgNamespaces := &rbacv1.ClusterRole{}
	if err := readYAML("../../config/rbac/managed_namespace_role.yaml", orgNamespaces); err != nil {
		return nil, err
	}
	leader := &rbacv1.Role{}
	if err := readYAML("../../config/rbac/leader_election_role.yaml", leader); err != nil {
		return nil, err
	}
	leader.Namespace = claimsNamespace
	subject := []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: managerUser}}
	objects := []client.Object{
		cluster, orgNamespaces,
		&rbacv1.ClusterRoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: managerUser},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: cluster.Name},
			Subjects:   subject,
		},
		leader,
		&rbacv1.RoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: managerUser, Namespace: claimsNamespace},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: leader.Name},
			Subjects:   subject,
		},
	}
	for _, o := range objects {
		if err := admin.Create(ctx, o); err != nil {
			return nil, fmt.Errorf("create %T %s: %w", o, o.GetName(), err)
		}
	}
	user, err := env.AddUser(envtest.User{Name: managerUser}, nil)
	if err != nil {
		return nil, fmt.Errorf("add user %s: %w", managerUser, err)
	}
	return user.Config(), nil
}

func readYAML(path string, into any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := yaml.Unmarshal(data, into); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// refusals collects the manager's log lines in which the API server refused
// it ("... is forbidden: User ... cannot ...").
var refusals = &refusalLog{}

type refusalLog struct {
	mu    sync.Mutex
	lines []string
}

func (r *refusalLog) Write(p []byte) (int, error) {
	if bytes.Contains(p, []byte("is forbidden: User")) {
		r.mu.Lock()
		r.lines = append(r.lines, string(bytes.TrimSpace(p)))
		r.mu.Unlock()
	}
	return len(p), nil
}

func (r *refusalLog) seen() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.lines...)
}
