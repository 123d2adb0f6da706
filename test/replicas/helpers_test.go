// Package replicas checks what only several manager processes behind one
// URL can show: real `jetway manager` processes against one API server and
// one Fly stand-in, each serving the gateway, one leading the controllers.
package replicas

import (
	"context"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
	"github.com/jetway-dev/jetway/internal/dev/devstack"
	"github.com/jetway-dev/jetway/internal/dev/flyside"
	"github.com/jetway-dev/jetway/internal/dev/flysim"
	"github.com/jetway-dev/jetway/internal/dev/testbin"
)

// externalURL is the one origin Fly signs for: the Service in front of
// every replica.
const externalURL = "http://jetway.test"

// cluster is a control plane, flysim and several manager processes.
type cluster struct {
	k8s      client.Client
	sim      *flysim.Server
	managers []*devstack.ManagerProcess
	// fly signs requests for externalURL; send them to a replica with
	// sendTo.
	fly *flyside.Client
	dir string
}

// startCluster starts n managers with leader election, all serving the
// gateway behind externalURL, each given args too. Everything stops when
// the test ends.
func startCluster(t *testing.T, n int, args ...string) *cluster {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	c := &cluster{dir: t.TempDir()}
	cp, err := devstack.StartControlPlane(testbin.Assets(t), c.dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cp.Stop() })
	kubeconfig := filepath.Join(c.dir, "kubeconfig")
	if err := os.WriteFile(kubeconfig, cp.Kubeconfig, 0o600); err != nil {
		t.Fatal(err)
	}
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{clientgoscheme.AddToScheme, jetwayv1.AddToScheme} {
		if err := add(scheme); err != nil {
			t.Fatal(err)
		}
	}
	if c.k8s, err = client.New(cp.Config, client.Options{Scheme: scheme}); err != nil {
		t.Fatal(err)
	}
	if err := devstack.InstallDefaultPlan(ctx, c.k8s); err != nil {
		t.Fatal(err)
	}

	token, secret, webhookSecret := devstack.RandomSecret(), devstack.RandomSecret(), devstack.RandomSecret()
	c.sim = flysim.New(flysim.Options{Token: token, OrgSlug: "jetway-replicas", BootTime: 200 * time.Millisecond,
		WebhookSecret: webhookSecret})
	simLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	simSrv := &http.Server{Handler: c.sim, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = simSrv.Serve(simLn) }()
	t.Cleanup(func() { _ = simSrv.Close() })
	flyURL := "http://" + simLn.Addr().String()

	managers, err := devstack.Replicas{
		Count: n, Bin: testbin.Jetway(t), Kubeconfig: kubeconfig,
		FlyURL: flyURL, FlyToken: token, FlyOrg: "jetway-replicas", Secret: secret, Dir: c.dir,
		Args: append([]string{"--external-url", externalURL,
			"--fly-webhook-url", flyURL + "/api/hooks/extensions/replicas", "--webhook-secret", webhookSecret,
			"--poll-interval", "200ms"}, args...),
	}.New()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range managers {
		if err := m.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			_ = m.Kill()
			if t.Failed() {
				t.Logf("%s (last lines):\n%s", m.LogPath, testbin.LogTail(m.LogPath, 30))
			}
		})
		c.managers = append(c.managers, m)
	}
	for _, m := range c.managers {
		if err := m.WaitGateway(ctx, 2*time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	c.fly = &flyside.Client{BaseURL: externalURL + "/flyio", Secret: []byte(secret)}
	return c
}

// TestMain removes the binary built for the package, if any, and quiets
// envtest's start-up chatter.
func TestMain(m *testing.M) {
	ctrllog.SetLogger(logr.Discard())
	code := m.Run()
	testbin.Cleanup()
	os.Exit(code)
}
