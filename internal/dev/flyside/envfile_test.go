package flyside

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestReadEnvFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dev.env")
	content := `# written by make run

JETWAY_GATEWAY_URL=http://127.0.0.1:8080/flyio
export JETWAY_SHARED_SECRET="s3cr=et"
SINGLE='quoted value'
  SPACED = x y
EMPTY=
HALF="open
`
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := ReadEnvFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"JETWAY_GATEWAY_URL":   "http://127.0.0.1:8080/flyio",
		"JETWAY_SHARED_SECRET": "s3cr=et",
		"SINGLE":               "quoted value",
		"SPACED":               "x y",
		"EMPTY":                "",
		"HALF":                 `"open`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestReadEnvFileErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := ReadEnvFile(filepath.Join(dir, "missing.env")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: got %v, want a not-exist error", err)
	}
	bad := filepath.Join(dir, "bad.env")
	if err := os.WriteFile(bad, []byte("OK=1\njust words\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadEnvFile(bad); err == nil || err.Error() != "read env file "+bad+":2: want KEY=VALUE" {
		t.Errorf("bad line: got %v", err)
	}
}
