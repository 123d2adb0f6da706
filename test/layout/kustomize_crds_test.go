package layout

import (
	"os"
	"path/filepath"
	"testing"

	"sigs.k8s.io/yaml"
)

// TestKustomizeInstallsEveryCRD: `kubectl apply -k config/default` installs
// the CRDs config/crd/kustomization.yaml lists, which is kept by hand while
// controller-gen writes config/crd/bases; a CRD left out (UsageLedger and
// BillingDay once were) leaves a manager that cannot start its caches.
func TestKustomizeInstallsEveryCRD(t *testing.T) {
	dir := filepath.Join("..", "..", "config", "crd")
	raw, err := os.ReadFile(filepath.Join(dir, "kustomization.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var k struct {
		Resources []string `json:"resources"`
	}
	if err := yaml.Unmarshal(raw, &k); err != nil {
		t.Fatalf("config/crd/kustomization.yaml: %v", err)
	}
	listed := map[string]bool{}
	for _, r := range k.Resources {
		listed[filepath.Clean(r)] = true
	}
	generated, err := filepath.Glob(filepath.Join(dir, "bases", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(generated) == 0 {
		t.Fatal("no CRDs in config/crd/bases")
	}
	for _, g := range generated {
		rel, _ := filepath.Rel(dir, g)
		if !listed[rel] {
			t.Errorf("config/crd/kustomization.yaml does not list %s", rel)
		}
		delete(listed, rel)
	}
	for r := range listed {
		t.Errorf("config/crd/kustomization.yaml lists %s, which config/crd/bases does not have", r)
	}
}
