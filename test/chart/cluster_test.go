package chart

import (
	"os"
	"path/filepath"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// cluster is a real kube-apiserver with kubectl pointed at it.
type cluster struct {
	env        *envtest.Environment
	kubeconfig string
	kubectl    string
}

func startCluster(t *testing.T) *cluster {
	t.Helper()
	c := &cluster{env: &envtest.Environment{}, kubectl: tool(t, "kubectl")}
	if _, err := c.env.Start(); err != nil {
		t.Fatalf("start envtest: %v", err)
	}
	t.Cleanup(func() { _ = c.env.Stop() })
	c.kubeconfig = filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(c.kubeconfig, c.env.KubeConfig, 0o600); err != nil {
		t.Fatal(err)
	}
	return c
}

// kc runs kubectl against the cluster and fails the test on an error.
func (c *cluster) kc(t *testing.T, args ...string) string {
	t.Helper()
	return run(t, c.kubectl, append([]string{"--kubeconfig", c.kubeconfig}, args...)...)
}

// apply applies a rendered manifest server-side.
func (c *cluster) apply(t *testing.T, manifest string) {
	t.Helper()
	f := filepath.Join(t.TempDir(), "manifest.yaml")
	if err := os.WriteFile(f, []byte(manifest), 0o600); err != nil {
		t.Fatal(err)
	}
	c.kc(t, "apply", "--server-side", "--force-conflicts", "-f", f)
}
