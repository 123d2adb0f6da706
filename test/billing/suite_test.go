// Package billing tests the meter end to end over a clock the tests move:
// Jetway in-process (manager.Run, controllers and gateway) against a real
// kube-apiserver and etcd (envtest) and the Fly stand-in behind real HTTP,
// with Fly's event timestamps and Jetway's billing clock on one jumpClock.
// Each test runs on a day of its own, closes it, and compares the
// published BillingDay with how long flysim's state log says each machine
// ran. It is apart from test/integration because its clock only moves
// forward, days at a time, which the other tests' dates would not survive.
package billing

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
	"github.com/onsi/gomega"
	coordinationv1 "k8s.io/api/coordination/v1"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

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
	orgSlug   = "jetway-billing-test"
	flyToken  = "flysim-billing-token"
	basePath  = "/flyio"
	appPrefix = "jetway"
	// resync is how often the controllers look at each extension's
	// machines, and so how often the meter reads Fly's events.
	resync = time.Second
	// closeGrace is long, so that a day is published only once every
	// ledger proves it to its end: the tests compare exact figures, and
	// a day published unproven would bill less by design.
	closeGrace = 6 * time.Hour
)

// Set up once by TestMain, read by every test.
var (
	k8s        client.Client
	restConfig *rest.Config
	sim        *flysim.Server
	clock      = &jumpClock{}
	secret     = []byte("billing-shared-secret")
	// replicas are the running Jetway processes; the first is the one
	// the tests call (see flyAPI).
	replicas []*replica
	flyURL   string
	stateDir string
	logger   logr.Logger
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
		fmt.Fprintf(os.Stderr, "FAIL: billing setup: "+format+"\n", args...)
		return 1
	}
	logOut := io.Discard
	if testing.Verbose() {
		logOut = os.Stderr
	}
	logger = zap.New(zap.UseDevMode(true), zap.WriteTo(logOut))
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
	if k8s, err = client.New(cfg, client.Options{Scheme: manager.NewScheme()}); err != nil {
		return fail("kubernetes client: %v", err)
	}

	// Fly's proxy stops an idle machine of the sleepy plan after a second
	// and starts it on traffic: the stop and start the tests bill.
	sim = flysim.New(flysim.Options{Token: flyToken, OrgSlug: orgSlug, BootTime: 200 * time.Millisecond,
		IdleAfter: time.Second, Now: clock.Now})
	simServer := httptest.NewServer(sim)
	defer sim.Close()
	defer simServer.Close()
	flyURL = simServer.URL

	if stateDir, err = os.MkdirTemp("", "jetway-billing-"); err != nil {
		return fail("state dir: %v", err)
	}
	defer os.RemoveAll(stateDir)

	if _, err := startReplica(); err != nil {
		return fail("%v", err)
	}
	defer func() {
		for _, r := range runningReplicas() {
			if err := r.stop(); err != nil {
				fmt.Fprintln(os.Stderr, err)
				code = 1
			}
		}
	}()
	if _, err := waitForLeader(context.Background(), ""); err != nil {
		return fail("%v", err)
	}
	if err := createPlans(context.Background()); err != nil {
		return fail("create plans: %v", err)
	}
	return m.Run()
}

// replica is one Jetway process: its own gateway port and state directory
// (so a replica taking over starts with no local disk of the old one's),
// and one leader election among them.
type replica struct {
	addr   string
	cancel context.CancelFunc
	done   chan error
}

// startReplica starts a Jetway and adds it to replicas. It returns once
// its gateway answers; it may not lead yet (see waitForLeader).
func startReplica() (*replica, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, fmt.Errorf("find a free port: %w", err)
	}
	dir, err := os.MkdirTemp(stateDir, "replica-")
	if err != nil {
		return nil, err
	}
	r := &replica{addr: addr, done: make(chan error, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	opts := managerOptions(addr, dir)
	opts.Log = logger.WithValues("replica", addr)
	go func() { r.done <- manager.Run(ctx, opts) }()
	if err := waitForGateway(addr, r.done); err != nil {
		cancel()
		return nil, err
	}
	replicas = append(replicas, r)
	return r, nil
}

// stop ends the replica, releasing its lease, and waits for it.
func (r *replica) stop() error {
	if r.cancel == nil {
		return nil
	}
	r.cancel()
	r.cancel = nil
	select {
	case err := <-r.done:
		if err != nil && !errors.Is(err, context.Canceled) {
			return fmt.Errorf("replica %s: manager.Run returned: %w", r.addr, err)
		}
		return nil
	case <-time.After(60 * time.Second):
		return fmt.Errorf("replica %s: manager.Run did not return within 60s of cancel", r.addr)
	}
}

func managerOptions(addr, dir string) manager.Options {
	return manager.Options{
		RestConfig:  restConfig,
		MetricsAddr: "0",
		ProbeAddr:   "0",
		// Several replicas run at once in the leader-change test; only the
		// leader runs the controllers (and so the meter).
		LeaderElection:          true,
		LeaderElectionNamespace: "default",
		LeaderElectionID:        "jetway-billing-test",
		Gateway:                 gateway.Config{Addr: addr, ExternalURL: "http://" + addr, BasePath: basePath},
		SharedSecrets:           [][]byte{secret},
		StateDir:                dir,
		Fly:                     fly.Options{BaseURL: flyURL, Token: flyToken, OrgSlug: orgSlug},
		Domain:                  domain.Settings{AppNamePrefix: appPrefix, DNSZone: "ext.billing.test"},
		Billing:                 billing.Settings{Currency: "USD", CloseGrace: closeGrace, Clock: clock.Now},
		Controllers: extension.Settings{
			DNSTTL:                  60,
			Resync:                  resync,
			FullCheck:               time.Hour,
			PollInterval:            200 * time.Millisecond,
			MaxConcurrentReconciles: 4,
			WedgedAfter:             time.Minute,
			StalledRecheck:          time.Minute,
		},
		RestartableInProcess: true,
	}
}

// flyAPI plays Fly against the first running replica's gateway.
func flyAPI() *flyside.Client {
	running := runningReplicas()
	if len(running) == 0 {
		panic("no Jetway replica is running")
	}
	return &flyside.Client{BaseURL: "http://" + running[0].addr + basePath, Secret: secret}
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
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

// newG returns a Gomega bound to t with the suite's wait defaults.
func newG(t testing.TB) *gomega.WithT {
	g := gomega.NewWithT(t)
	g.SetDefaultEventuallyTimeout(60 * time.Second)
	g.SetDefaultEventuallyPollingInterval(200 * time.Millisecond)
	return g
}

func ctxFor(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// leaseName is the replicas' leader election Lease.
var leaseName = client.ObjectKey{Namespace: "default", Name: "jetway-billing-test"}

// waitForLeader waits until a replica other than notHolder holds the
// lease, and returns its identity.
func waitForLeader(ctx context.Context, notHolder string) (string, error) {
	deadline := time.Now().Add(90 * time.Second)
	for {
		lease := &coordinationv1.Lease{}
		err := k8s.Get(ctx, leaseName, lease)
		if err == nil && lease.Spec.HolderIdentity != nil && *lease.Spec.HolderIdentity != "" && *lease.Spec.HolderIdentity != notHolder {
			return *lease.Spec.HolderIdentity, nil
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("no replica but %q took the lease %s within 90s (last: %w)", notHolder, leaseName, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// runningReplicas are the replicas not stopped.
func runningReplicas() []*replica {
	var out []*replica
	for _, r := range replicas {
		if r.cancel != nil {
			out = append(out, r)
		}
	}
	return out
}

// stopAllReplicas stops every Jetway: nobody meters meanwhile.
func stopAllReplicas(t *testing.T) {
	t.Helper()
	for _, r := range runningReplicas() {
		if err := r.stop(); err != nil {
			t.Fatal(err)
		}
	}
}

// startLeader starts a replica, with a fresh disk, and waits until it
// holds the lease formerly held by previous.
func startLeader(t *testing.T, previous string) {
	t.Helper()
	if _, err := startReplica(); err != nil {
		t.Fatal(err)
	}
	if _, err := waitForLeader(context.Background(), previous); err != nil {
		t.Fatal(err)
	}
}
