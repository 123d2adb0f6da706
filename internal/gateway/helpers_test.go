package gateway

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
	"github.com/jetway-dev/jetway/internal/domain"
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

// testScheme has the core and Jetway types.
func testScheme(t *testing.T) *runtime.Scheme {
	t.Helper()
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{clientgoscheme.AddToScheme, jetwayv1.AddToScheme} {
		if err := add(scheme); err != nil {
			t.Fatal(err)
		}
	}
	return scheme
}

// withExtensionIndexes gives a fake client the manager's Extension indexes.
func withExtensionIndexes(b *fake.ClientBuilder) *fake.ClientBuilder {
	for _, ix := range domain.ExtensionIndexes {
		b = b.WithIndex(&jetwayv1.Extension{}, ix.Field, ix.Extract)
	}
	return b
}
