// Package layout checks the rules of the tree that no compiler enforces:
// the product links none of the harness, the harness checks the product
// with none of the product's own signing code, the conformance suite links
// no Jetway code at all, and every status write takes the one apply path. See docs/architecture.md.
package layout

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

const module = "github.com/jetway-dev/jetway"

// deps lists the module's packages that pkgs link.
func deps(t *testing.T, pkgs ...string) []string {
	t.Helper()
	out, err := exec.Command("go", append([]string{"list", "-deps"}, pkgs...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps %v: %v\n%s", pkgs, err, out)
	}
	var own []string
	for _, p := range strings.Fields(string(out)) {
		if strings.HasPrefix(p, module+"/") {
			own = append(own, p)
		}
	}
	return own
}

// TestProductLinksNoHarness: the binary the image ships links no simulator,
// chaos, load or Fly-side package.
func TestProductLinksNoHarness(t *testing.T) {
	linked := deps(t, module+"/cmd/jetway")
	if len(linked) < 5 {
		t.Fatalf("go list found only %v; is this the module root's test?", linked)
	}
	for _, p := range linked {
		if strings.HasPrefix(p, module+"/internal/dev/") || strings.HasPrefix(p, module+"/cmd/jetway-dev") {
			t.Errorf("cmd/jetway links harness package %s", p)
		}
	}
}

// TestHarnessDoesNotBorrowProductSigning: the Fly stand-in and Fly's side
// of the protocol sign and check signatures with their own code, so a bug
// in the product's canonical message cannot hide from the tests.
func TestHarnessDoesNotBorrowProductSigning(t *testing.T) {
	for _, p := range deps(t, module+"/internal/dev/...") {
		if p == module+"/internal/signing" {
			t.Errorf("the harness links the product's signing package %s", p)
		}
	}
}

// TestConformanceSuiteUsesNoJetwayCode: the suite any provider runs
// against itself judges by Fly's page alone, so it links no package of
// this module but its own.
func TestConformanceSuiteUsesNoJetwayCode(t *testing.T) {
	suite := module + "/internal/dev/conformance"
	for _, p := range deps(t, suite) {
		if p != suite {
			t.Errorf("internal/dev/conformance links %s", p)
		}
	}
}

// statusWrite is a direct write to a status subresource.
var statusWrite = regexp.MustCompile(`\.Status\(\)\s*\.\s*(Patch|Update|Apply|Create)\(`)

// TestStatusIsWrittenOnlyThroughTheApplyPath: no product code writes a
// status but controllers/internal/ssa, which every controller's writes go
// through with its own field manager.
func TestStatusIsWrittenOnlyThroughTheApplyPath(t *testing.T) {
	root := filepath.Join("..", "..")
	allowed := filepath.Join(root, "controllers", "internal", "ssa")
	for _, dir := range []string{"api", "cmd/jetway", "controllers", "internal"} {
		err := filepath.WalkDir(filepath.Join(root, dir), func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && (path == filepath.Join(root, "internal", "dev") || path == allowed) {
				return filepath.SkipDir
			}
			if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return nil
			}
			src, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			if loc := statusWrite.FindIndex(src); loc != nil {
				line := 1 + strings.Count(string(src[:loc[0]]), "\n")
				t.Errorf("%s:%d writes status outside controllers/internal/ssa", path, line)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}
