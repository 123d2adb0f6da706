package gateway

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/jetway-dev/jetway/internal/signing"
)

// testServer builds a gateway over c (as both cache and live reader) that
// accepts requests signed with secret, with a nonce store of its own.
func testServer(t *testing.T, cfg Config, c client.Client, scheme *runtime.Scheme, secret string) *Server {
	t.Helper()
	nonces, err := signing.OpenNonceStore(filepath.Join(t.TempDir(), "n.db"), 10*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nonces.Close() })
	cfg.Verifier = &signing.Verifier{Secrets: [][]byte{[]byte(secret)}, Nonces: nonces}
	s, err := New(cfg, c, c, scheme, logr.Discard())
	if err != nil {
		t.Fatal(err)
	}
	return s
}
