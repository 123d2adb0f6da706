// Package replicas checks what only several manager processes behind one
// URL can show: real `jetway manager` processes against one API server and
// one Fly stand-in, each serving the gateway, one leading the controllers.
package replicas

import (
	"context"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
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
	cp, err := devstack.StartControlPlane(assets(t), c.dir)
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
		Count: n, Bin: jetwayBin(t), Kubeconfig: kubeconfig,
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
				t.Logf("%s (last lines):\n%s", m.LogPath, logTail(m.LogPath, 30))
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
		dir, err := os.MkdirTemp("", "jetway-replicas-bin-")
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

// TestMain removes the binary built for the package, if any, and quiets
// envtest's start-up chatter.
func TestMain(m *testing.M) {
	ctrllog.SetLogger(logr.Discard())
	code := m.Run()
	if builtBin != "" {
		os.RemoveAll(filepath.Dir(builtBin))
	}
	os.Exit(code)
}

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
