package integration

import (
	"io/fs"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/jetway-dev/jetway/config"
)

// TestSamplesAreValid: every sample in config/samples is accepted by the
// real API server as it stands, with strict field validation (a misspelt
// field is an error, not silently dropped) and every CEL rule. Dry run:
// nothing is stored.
func TestSamplesAreValid(t *testing.T) {
	files, err := fs.Glob(config.Files, "samples/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("samples: %v (%d files)", err, len(files))
	}
	for _, f := range files {
		t.Run(f, func(t *testing.T) {
			b, err := config.Files.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			obj := &unstructured.Unstructured{}
			if err := yaml.Unmarshal(b, &obj.Object); err != nil {
				t.Fatal(err)
			}
			if obj.GetNamespace() == "" && obj.GetKind() == "Extension" {
				obj.SetNamespace("default")
			}
			if err := k8s.Create(ctxFor(t), obj, client.DryRunAll, client.FieldValidation("Strict")); err != nil {
				t.Errorf("%s (%s %s): %v", f, obj.GetKind(), obj.GetName(), err)
			}
		})
	}
}
