// Package chaos runs the chaos and load checks of internal/chaos and
// internal/loadgen in small versions, inside `make test`.
package chaos

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/go-logr/logr"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
)

// assets is the control plane's binaries; without them there is nothing to
// test against, which is a failure, not a skip.
func assets(t *testing.T) string {
	t.Helper()
	a := os.Getenv("KUBEBUILDER_ASSETS")
	if a == "" {
		t.Fatal("KUBEBUILDER_ASSETS is not set: run `make test`, which builds the control plane and sets it")
	}
	return a
}

var (
	buildOnce sync.Once
	builtBin  string
	buildErr  error
	buildOut  []byte
)

// jetwayBin is $JETWAY_BIN (the Makefile's bin/jetway), else a fresh build
// shared by the package's tests.
func jetwayBin(t *testing.T) string {
	t.Helper()
	if bin := os.Getenv("JETWAY_BIN"); bin != "" {
		return bin
	}
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "jetway-chaos-bin-")
		if err != nil {
			buildErr = err
			return
		}
		builtBin = filepath.Join(dir, "jetway")
		buildOut, buildErr = exec.Command("go", "build", "-o", builtBin, "../../cmd/jetway").CombinedOutput()
	})
	if buildErr != nil {
		t.Fatalf("build jetway: %v\n%s", buildErr, buildOut)
	}
	return builtBin
}

// TestMain removes the binary built for the package, if any. envtest logs
// through controller-runtime; its start-up chatter is not worth showing.
func TestMain(m *testing.M) {
	ctrllog.SetLogger(logr.Discard())
	code := m.Run()
	if builtBin != "" {
		os.RemoveAll(filepath.Dir(builtBin))
	}
	os.Exit(code)
}

// logTail returns the last n lines of a file, for a failure message.
func logTail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
