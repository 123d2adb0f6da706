// Package testbin gives the tests that run real `jetway manager` processes
// (test/chaos, test/replicas, test/failover) what each needs alike: the
// control plane's binaries, the jetway binary, and the end of a log for a
// failure message.
package testbin

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// Assets is $KUBEBUILDER_ASSETS; without the control plane there is
// nothing to test against, which is a failure, not a skip.
func Assets(t testing.TB) string {
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

// Jetway is $JETWAY_BIN (the Makefile's bin/jetway), else one fresh build
// of ../../cmd/jetway (a test package's view of the repository) shared by
// the package's tests; call Cleanup from TestMain to remove it.
func Jetway(t testing.TB) string {
	t.Helper()
	if bin := os.Getenv("JETWAY_BIN"); bin != "" {
		return bin
	}
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "jetway-test-bin-")
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

// Cleanup removes the binary Jetway built, if it built one.
func Cleanup() {
	if builtBin != "" {
		os.RemoveAll(filepath.Dir(builtBin))
	}
}

// LogTail is the last n lines of a file, for a failure message.
func LogTail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
