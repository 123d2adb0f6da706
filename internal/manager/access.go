package manager

import (
	"os"
	"strings"

	"github.com/jetway-dev/jetway/internal/domain"
)

// podNamespaceFile is where Kubernetes tells a pod its namespace.
const podNamespaceFile = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"

// namespaceAccess is the manager's binding into org namespaces: on only
// when it knows its own ServiceAccount (the chart and config/manager pass
// it from the downward API), off for `jetway-dev up` and tests, whose
// credentials reach every namespace.
func (f *Flags) namespaceAccess() domain.NamespaceAccess {
	ns := f.ServiceAccountNamespace
	if ns == "" && f.ServiceAccount != "" {
		if b, err := os.ReadFile(podNamespaceFile); err == nil {
			ns = strings.TrimSpace(string(b))
		}
	}
	return domain.NamespaceAccess{Role: f.ManagedNamespaceRole, ServiceAccount: f.ServiceAccount, ServiceAccountNamespace: ns}
}
