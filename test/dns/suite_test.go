// Package dns proves the DNS path end to end with real programs: Jetway
// in-process (manager.Run: gateway and controllers) against a real
// kube-apiserver and etcd (envtest) and the Fly stand-in, writes
// DNSEndpoints; a real external-dns (v0.20.0, built by `make external-dns`)
// reads them with the CRD source and publishes them over RFC 2136, signed
// with TSIG, to a real BIND (Debian's bind9); the tests resolve the names
// at BIND as any DNS client would.
package dns

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/go-logr/logr"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
	"github.com/jetway-dev/jetway/controllers/extension"
	"github.com/jetway-dev/jetway/internal/billing"
	"github.com/jetway-dev/jetway/internal/dev/flyside"
	"github.com/jetway-dev/jetway/internal/dev/flysim"
	"github.com/jetway-dev/jetway/internal/domain"
	"github.com/jetway-dev/jetway/internal/fly"
	"github.com/jetway-dev/jetway/internal/gateway"
	"github.com/jetway-dev/jetway/internal/manager"
)

const (
	orgSlug   = "jetway-dns-test"
	flyToken  = "flysim-dns-token"
	basePath  = "/flyio"
	appPrefix = "jetway"
	dnsZone   = "ext.dns.test"
	dnsTTL    = 30
)

// Set up once by TestMain, read by every test.
var (
	k8s     client.Client
	bind    *bindServer
	extDNS  *externalDNS
	secret  = []byte("dns-shared-secret")
	gwAddr  string
	logger  logr.Logger
	workDir string
)

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(runSuite(m))
}

func runSuite(m *testing.M) (code int) {
	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		fmt.Fprintln(os.Stderr, "FAIL: KUBEBUILDER_ASSETS is not set; run these tests with `make test`.")
		return 1
	}
	fail := func(format string, args ...any) int {
		fmt.Fprintf(os.Stderr, "FAIL: dns setup: "+format+"\n", args...)
		return 1
	}
	logOut := io.Discard
	if testing.Verbose() {
		logOut = os.Stderr
	}
	logger = zap.New(zap.UseDevMode(true), zap.WriteTo(logOut))
	ctrl.SetLogger(logger)
	ctx := context.Background()

	var err error
	// named runs as the bind user when the tests run as root, so its
	// folder is a folder of its own under the world-searchable temp dir.
	if workDir, err = os.MkdirTemp("", "jetway-dns-"); err != nil {
		return fail("work dir: %v", err)
	}
	defer os.RemoveAll(workDir)

	env := &envtest.Environment{
		CRDDirectoryPaths:     []string{"../../config/crd/bases", "../../config/crd/external"},
		ErrorIfCRDPathMissing: true,
	}
	cfg, err := env.Start()
	if err != nil {
		return fail("start envtest: %v", err)
	}
	defer func() {
		if err := env.Stop(); err != nil {
			fmt.Fprintf(os.Stderr, "stop envtest: %v\n", err)
			code = 1
		}
	}()
	if k8s, err = client.New(cfg, client.Options{Scheme: manager.NewScheme()}); err != nil {
		return fail("kubernetes client: %v", err)
	}

	if bind, err = startBIND(workDir, dnsZone); err != nil {
		return fail("%v", err)
	}
	defer bind.stop()
	if extDNS, err = startExternalDNS(ctx, env, k8s, bind, workDir); err != nil {
		return fail("%v", err)
	}
	defer extDNS.stop()

	sim := flysim.New(flysim.Options{Token: flyToken, OrgSlug: orgSlug, BootTime: 200 * time.Millisecond})
	simServer := httptest.NewServer(sim)
	defer sim.Close()
	defer simServer.Close()

	if gwAddr, err = freeAddr(); err != nil {
		return fail("find a free port: %v", err)
	}
	stateDir, err := os.MkdirTemp("", "jetway-dns-state-")
	if err != nil {
		return fail("state dir: %v", err)
	}
	defer os.RemoveAll(stateDir)
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- manager.Run(runCtx, managerOptions(cfg, simServer.URL, stateDir)) }()
	defer func() {
		cancel()
		select {
		case err := <-done:
			if err != nil && !errors.Is(err, context.Canceled) {
				fmt.Fprintf(os.Stderr, "manager.Run returned: %v\n", err)
				code = 1
			}
		case <-time.After(60 * time.Second):
			fmt.Fprintln(os.Stderr, "manager.Run did not return within 60s of cancel")
			code = 1
		}
	}()
	if err := waitForGateway(gwAddr, done); err != nil {
		return fail("%v", err)
	}
	if err := k8s.Create(ctx, &jetwayv1.ExtensionPlan{ObjectMeta: metav1.ObjectMeta{Name: "standard"},
		Spec: jetwayv1.ExtensionPlanSpec{Default: true, Image: "registry.example.com/db:1",
			Services:   []jetwayv1.ServiceSpec{{Protocol: "tcp", InternalPort: 5432, Ports: []jetwayv1.PortSpec{{Port: 5432}}}},
			Connection: jetwayv1.ConnectionSpec{Config: map[string]string{"DB_URL": "postgres://{{.Host}}:{{.Port}}/db"}, Port: 5432}}}); err != nil {
		return fail("create plan: %v", err)
	}
	code = m.Run()
	if err := extDNS.running(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		code = 1
	}
	if code != 0 {
		fmt.Fprintf(os.Stderr, "external-dns log:\n%s\nnamed log:\n%s\n", readFile(extDNS.log), readFile(bind.log))
	}
	return code
}

func managerOptions(cfg *rest.Config, flyURL, stateDir string) manager.Options {
	return manager.Options{
		RestConfig:    cfg,
		MetricsAddr:   "0",
		ProbeAddr:     "0",
		Gateway:       gateway.Config{Addr: gwAddr, ExternalURL: "http://" + gwAddr, BasePath: basePath},
		SharedSecrets: [][]byte{secret},
		StateDir:      stateDir,
		Fly:           fly.Options{BaseURL: flyURL, Token: flyToken, OrgSlug: orgSlug},
		Domain:        domain.Settings{AppNamePrefix: appPrefix, DNSZone: dnsZone},
		Billing:       billing.Settings{Currency: "USD", CloseGrace: time.Hour},
		Controllers: extension.Settings{
			DNSTTL:                  dnsTTL,
			Resync:                  2 * time.Second,
			FullCheck:               time.Hour,
			PollInterval:            200 * time.Millisecond,
			MaxConcurrentReconciles: 4,
			WedgedAfter:             time.Minute,
			StalledRecheck:          time.Minute,
		},
		RestartableInProcess: true,
	}
}

// flyAPI plays Fly against Jetway's gateway.
func flyAPI() *flyside.Client {
	return &flyside.Client{BaseURL: "http://" + gwAddr + basePath, Secret: secret}
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

func splitHostPort(addr string) (string, string) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		panic(fmt.Sprintf("address %q: %v", addr, err))
	}
	return host, port
}

// waitForGateway waits until the gateway at addr answers an unsigned call
// with 401.
func waitForGateway(addr string, done <-chan error) error {
	hc := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(90 * time.Second)
	for {
		select {
		case err := <-done:
			return fmt.Errorf("manager.Run returned before its gateway answered: %w", err)
		default:
		}
		resp, err := hc.Get("http://" + addr + basePath + "/extensions/ping")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusUnauthorized {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("gateway at %s never came up (last: %w)", addr, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
