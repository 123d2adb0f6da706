// Package integration runs Jetway in-process (controllers and gateway,
// through manager.Run) against a real kube-apiserver and etcd (envtest) and
// the Fly stand-in (flysim) behind a real HTTP server, and drives it the way
// Fly and operators do: signed gateway calls and Kubernetes objects.
package integration

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
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
	"github.com/jetway-dev/jetway/controllers/extension"
	"github.com/jetway-dev/jetway/controllers/notifier"
	"github.com/jetway-dev/jetway/internal/billing"
	"github.com/jetway-dev/jetway/internal/dev/flyside"
	"github.com/jetway-dev/jetway/internal/dev/flysim"
	"github.com/jetway-dev/jetway/internal/domain"
	"github.com/jetway-dev/jetway/internal/fly"
	"github.com/jetway-dev/jetway/internal/gateway"
	"github.com/jetway-dev/jetway/internal/manager"
)

// Settings shared by the harness and the assertions.
const (
	orgSlug         = "jetway-test"
	flyToken        = "flysim-integration-token"
	webhookSecret   = "integration-webhook-secret"
	webhookProvider = "jetway"
	sleepyPlan      = "sleepy"
	appPrefix       = "jetway"
	dnsZone         = "ext.jetway.test"
	dnsTTL          = 60
	basePath        = "/flyio"
	defaultPlan     = "standard"
	largePlan       = "large"
	standardImage   = "registry.example.com/logjam:1.0"
	largeImage      = "registry.example.com/logjam-large:1.0"
	// connTemplate is the default plan's connection URL.
	connTemplate = "postgres://{{.Username}}:{{.Password}}@{{.Host}}:{{.Port}}/db"
)

// Set up once by TestMain, read by every test.
var (
	// k8s talks to the API server directly (no cache), as kubectl would.
	k8s client.Client
	// restConfig reaches envtest's API server, for tests that watch.
	restConfig *rest.Config
	// sim is the Fly stand-in the controllers talk to, at simURL.
	sim    *flysim.Server
	simURL string
	// gatewayURL is the gateway's origin, e.g. http://127.0.0.1:34567.
	gatewayURL string
	// secret is the shared provisioning secret Fly signs with.
	secret = []byte("integration-shared-secret")
	// fly plays Fly.io: it signs every call with the shared secret.
	flyAPI *flyside.Client
)

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(runSuite(m))
}

// runSuite starts envtest, flysim and Jetway, runs the tests and tears
// everything down, in that order, whatever happens.
func runSuite(m *testing.M) (code int) {
	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		fmt.Fprintln(os.Stderr, "FAIL: KUBEBUILDER_ASSETS is not set, so there is no kube-apiserver/etcd to test against.\n"+
			"Run the integration tests with `make test` (it builds the binaries and exports KUBEBUILDER_ASSETS),\n"+
			"or export KUBEBUILDER_ASSETS=<dir with kube-apiserver and etcd> yourself.")
		return 1
	}
	fail := func(format string, args ...any) int {
		fmt.Fprintf(os.Stderr, "FAIL: integration setup: "+format+"\n", args...)
		return 1
	}

	logOut := io.Discard
	if testing.Verbose() {
		logOut = os.Stderr
	}
	// Every log line is also searched for the API server refusing the
	// manager (see rbac_test.go): a refused watch only logs, and leaves a
	// cache that never updates.
	logger := zap.New(zap.UseDevMode(true), zap.WriteTo(io.MultiWriter(logOut, refusals, logs)))
	ctrl.SetLogger(logger)

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

	restConfig = cfg
	k8s, err = client.New(cfg, client.Options{Scheme: manager.NewScheme()})
	if err != nil {
		return fail("kubernetes client: %v", err)
	}

	sim = flysim.New(flysim.Options{Token: flyToken, OrgSlug: orgSlug, BootTime: 200 * time.Millisecond,
		WebhookSecret: webhookSecret, IdleAfter: 2 * time.Second})
	simServer := httptest.NewServer(sim)
	defer sim.Close()
	defer simServer.Close()

	addr, err := freeAddr()
	if err != nil {
		return fail("find a free port: %v", err)
	}
	gatewayURL = "http://" + addr
	flyAPI = &flyside.Client{BaseURL: gatewayURL + basePath, Secret: secret}
	// Fly tells the provider about its machines by CloudEvents, unsigned.
	sim.SetEventsURL(gatewayURL+basePath+"/extensions/events", "")

	stateDir, err := os.MkdirTemp("", "jetway-integration-")
	if err != nil {
		return fail("state dir: %v", err)
	}
	defer os.RemoveAll(stateDir)

	managerConfig, err := leastPrivilegeConfig(context.Background(), env, k8s, "default")
	if err != nil {
		return fail("manager's RBAC: %v", err)
	}
	simURL = simServer.URL
	// As in production: ctrl.GetConfig turns client-side rate limiting off
	// and leaves fairness to the API server; envtest's config keeps
	// client-go's 5 requests/s, which no deployed manager has.
	managerConfig.QPS = -1
	currentOptions = managerOptions(managerConfig, addr, stateDir, simServer.URL, logger)
	runErr := startManager()
	defer func() {
		if err := stopManager(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			code = 1
		}
	}()

	if err := waitForGateway(runErr); err != nil {
		return fail("%v", err)
	}
	if err := createPlans(context.Background()); err != nil {
		return fail("create plans: %v", err)
	}
	code = m.Run()
	if lines := refusals.seen(); len(lines) > 0 {
		fmt.Fprintf(os.Stderr, "FAIL: the API server refused the manager %d times; config/rbac lacks a verb:\n%s\n",
			len(lines), strings.Join(lines[:min(len(lines), 5)], "\n"))
		return 1
	}
	return code
}

var (
	currentOptions manager.Options
	stopCurrent    context.CancelFunc
	currentRunErr  chan error
)

// startManager runs Jetway with currentOptions in the background.
func startManager() <-chan error {
	ctx, cancel := context.WithCancel(context.Background())
	stopCurrent = cancel
	currentRunErr = make(chan error, 1)
	go func() { currentRunErr <- manager.Run(ctx, currentOptions) }()
	return currentRunErr
}

// stopManager stops the running Jetway and waits for it to return.
func stopManager() error {
	stopCurrent()
	select {
	case err := <-currentRunErr:
		if err != nil && !errors.Is(err, context.Canceled) {
			return fmt.Errorf("manager.Run returned: %w", err)
		}
		return nil
	case <-time.After(60 * time.Second):
		return errors.New("manager.Run did not return within 60s of cancel")
	}
}

// restartManager stops Jetway and starts a new one, as an upgrade or a node
// drain would, and waits until its gateway answers again.
func restartManager(t testing.TB) {
	t.Helper()
	if err := stopManager(); err != nil {
		t.Fatal(err)
	}
	if err := waitForGateway(startManager()); err != nil {
		t.Fatal(err)
	}
}

func managerOptions(cfg *rest.Config, addr, stateDir, flyURL string, logger logr.Logger) manager.Options {
	return manager.Options{
		RestConfig: cfg,
		Gateway: gateway.Config{
			Addr:        addr,
			ExternalURL: "http://" + addr,
			BasePath:    basePath,
			// Scaled down like the intervals below: an autostopped machine
			// that wakes may sleep again within the default 5 s.
			Events: gateway.EventSettings{MinInterval: 250 * time.Millisecond},
		},
		SharedSecrets: [][]byte{secret},
		StateDir:      stateDir,
		Fly:           fly.Options{BaseURL: flyURL, Token: flyToken, OrgSlug: orgSlug},
		// Fly's webhook endpoint is flysim's sink, with a short retry
		// schedule so outages and recoveries fit in a test.
		WebhookURL:    flyURL + "/api/hooks/extensions/" + webhookProvider,
		WebhookSecret: []byte(webhookSecret),
		Notifier: notifier.Settings{
			FirstRetry:              100 * time.Millisecond,
			MaxRetryInterval:        time.Second,
			GiveUpAfter:             time.Hour,
			FailingAfter:            3,
			MaxConcurrentReconciles: 4,
		},
		Domain:  domain.Settings{AppNamePrefix: appPrefix, DNSZone: dnsZone, Access: managerAccess},
		Billing: billing.Settings{Currency: "USD", CloseGrace: time.Hour},
		Controllers: extension.Settings{
			DNSTTL: dnsTTL,
			Resync: 2 * time.Second,
			// Resyncs here are looks (the machine list), as in production:
			// drift elsewhere must be found without a full check.
			FullCheck:               time.Hour,
			PollInterval:            300 * time.Millisecond,
			MaxConcurrentReconciles: 4,
			// Far above flysim's 200 ms boots, so only WedgeMachine trips it.
			WedgedAfter: 3 * time.Second,
			// Well past TestRejectedTokenStalls' quiet window.
			StalledRecheck:       8 * time.Second,
			MachineEventInterval: 250 * time.Millisecond,
		},
		Log:                  logger,
		RestartableInProcess: true,
	}
}

// freeAddr finds a loopback port nobody listens on.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// waitForGateway waits until the gateway answers HTTP (an unsigned call
// gets a 401), which also means the manager's caches have synced: the
// manager starts its other runnables only after that.
func waitForGateway(runErr <-chan error) error {
	var failure string
	g := gomega.NewGomega(func(message string, _ ...int) { failure = message })
	hc := &http.Client{Timeout: 2 * time.Second}
	ok := g.Eventually(func() error {
		select {
		case err := <-runErr:
			return gomega.StopTrying(fmt.Sprintf("manager.Run returned before the gateway answered: %v", err))
		default:
		}
		resp, err := hc.Get(gatewayURL + basePath + "/extensions/ping")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			return fmt.Errorf("gateway answered %d to an unsigned call, want 401", resp.StatusCode)
		}
		return nil
	}).WithTimeout(90 * time.Second).WithPolling(200 * time.Millisecond).Should(gomega.Succeed())
	if !ok {
		return fmt.Errorf("gateway at %s never came up: %s", gatewayURL, failure)
	}
	return nil
}

// createPlans writes the default plan and the "large" plan the update
// tests switch to. They differ in image and size.
func createPlans(ctx context.Context) error {
	service := []jetwayv1.ServiceSpec{{Protocol: "tcp", InternalPort: 5432, Ports: []jetwayv1.PortSpec{{Port: 5432}}}}
	plans := []*jetwayv1.ExtensionPlan{
		{
			ObjectMeta: metav1.ObjectMeta{Name: defaultPlan},
			Spec: jetwayv1.ExtensionPlanSpec{
				Default:     true,
				DisplayName: "Standard",
				Image:       standardImage,
				Services:    service,
				Connection: jetwayv1.ConnectionSpec{
					Config: map[string]string{"LOGJAM_URL": connTemplate},
					Port:   5432,
				},
			},
		},
		{
			// Fly's proxy stops idle machines and starts one on traffic.
			ObjectMeta: metav1.ObjectMeta{Name: sleepyPlan},
			Spec: jetwayv1.ExtensionPlanSpec{
				DisplayName: "Sleepy",
				Image:       standardImage,
				Services: []jetwayv1.ServiceSpec{{Protocol: "tcp", InternalPort: 5432, Ports: []jetwayv1.PortSpec{{Port: 5432}},
					Autostop: "stop", Autostart: true}},
				Connection: jetwayv1.ConnectionSpec{
					Config: map[string]string{"LOGJAM_URL": connTemplate},
					Port:   5432,
				},
			},
		},
		{
			ObjectMeta: metav1.ObjectMeta{Name: largePlan},
			Spec: jetwayv1.ExtensionPlanSpec{
				DisplayName: "Large",
				Image:       largeImage,
				Guest:       jetwayv1.GuestSpec{CPUKind: "shared", CPUs: 2, MemoryMB: 1024},
				Services:    service,
				Connection: jetwayv1.ConnectionSpec{
					Config: map[string]string{"LOGJAM_URL": connTemplate},
					Port:   5432,
				},
			},
		},
	}
	for _, p := range plans {
		if err := k8s.Create(ctx, p); err != nil {
			return fmt.Errorf("plan %s: %w", p.Name, err)
		}
	}
	return nil
}
