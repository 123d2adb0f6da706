// Package chaos runs the chaos and load checks of internal/chaos and
// internal/loadgen in small versions, inside `make test`.
package chaos

import (
	"os"
	"testing"

	"github.com/go-logr/logr"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/jetway-dev/jetway/internal/dev/testbin"
)

// TestMain removes the binary built for the package, if any. envtest logs
// through controller-runtime; its start-up chatter is not worth showing.
func TestMain(m *testing.M) {
	ctrllog.SetLogger(logr.Discard())
	code := m.Run()
	testbin.Cleanup()
	os.Exit(code)
}
