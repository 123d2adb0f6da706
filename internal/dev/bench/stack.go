package bench

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
	"github.com/jetway-dev/jetway/internal/dev/devstack"
	"github.com/jetway-dev/jetway/internal/dev/flyside"
	"github.com/jetway-dev/jetway/internal/dev/flysim"
)

const (
	benchOrg      = "jetway-bench"
	benchProvider = "bench"
)

// stackOptions shape one figure's stack.
type stackOptions struct {
	// managerArgs are flags for the manager, on top of devstack's.
	managerArgs []string
	// managers is how many manager processes run side by side, with
	// leader election on when more than one; default 1. Each has its own
	// gateway and metrics endpoint.
	managers int
	// prepare, when set, writes what the figure needs to the API server
	// (a plan of its own) after the default plan and before any manager
	// starts, so no manager's cache can miss it.
	prepare func(ctx context.Context, c client.Client) error
}

// stack is a control plane, flysim on a loopback port (Fly's Machines API,
// its webhook endpoint and its machine events) and the manager binary as a
// child process: what a provider runs, with Fly played by flysim.
type stack struct {
	dir      string
	cp       *devstack.ControlPlane
	k8s      client.Client
	sim      *flysim.Server
	simSrv   *http.Server
	manager  *devstack.ManagerProcess // managers[0]
	managers []*devstack.ManagerProcess
	// metricsAddrs and pprofAddrs are the managers' metrics and profile
	// endpoints, by index.
	metricsAddrs []string
	pprofAddrs   []string
	fly          *flyside.Client
}

// startStack starts a stack in a fresh folder under cfg.Dir named name.
func startStack(ctx context.Context, cfg Config, name string, o stackOptions) (s *stack, err error) {
	s = &stack{dir: filepath.Join(cfg.Dir, name)}
	defer func() {
		if err != nil {
			s.close()
		}
	}()
	if err := os.MkdirAll(s.dir, 0o700); err != nil {
		return nil, err
	}
	if s.cp, err = devstack.StartControlPlane(cfg.Assets, s.dir); err != nil {
		return nil, err
	}
	kubeconfig := filepath.Join(s.dir, "kubeconfig")
	if err := os.WriteFile(kubeconfig, s.cp.Kubeconfig, 0o600); err != nil {
		return nil, fmt.Errorf("write kubeconfig: %w", err)
	}
	if s.k8s, err = client.New(s.cp.Config, client.Options{Scheme: scheme()}); err != nil {
		return nil, fmt.Errorf("kubernetes client: %w", err)
	}
	if err := devstack.InstallDefaultPlan(ctx, s.k8s); err != nil {
		return nil, err
	}
	if o.prepare != nil {
		if err := o.prepare(ctx, s.k8s); err != nil {
			return nil, err
		}
	}

	token, secret, webhookSecret := devstack.RandomSecret(), devstack.RandomSecret(), devstack.RandomSecret()
	simLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("flysim listen: %w", err)
	}
	flyURL := "http://" + simLn.Addr().String()
	replicas := devstack.Replicas{
		Count: o.managers, Bin: cfg.ManagerBin, Kubeconfig: kubeconfig,
		FlyURL: flyURL, FlyToken: token, FlyOrg: benchOrg, Secret: secret, Dir: s.dir,
		Args: append([]string{
			"--fly-webhook-url", flyURL + "/api/hooks/extensions/" + benchProvider,
			"--webhook-secret", webhookSecret,
		}, o.managerArgs...),
	}
	if s.managers, err = replicas.New(); err != nil {
		simLn.Close()
		return nil, err
	}
	s.sim = flysim.New(flysim.Options{
		Token: token, OrgSlug: benchOrg, BootTime: cfg.BootTime, Latency: cfg.FlyLatency,
		WebhookSecret: webhookSecret,
		// Fly sends machine events to one URL, unsigned; the first gateway
		// takes them.
		EventsURL: s.managers[0].GatewayURL() + "/extensions/events",
	})
	s.simSrv = &http.Server{Handler: s.sim, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.simSrv.Serve(simLn) }()

	for _, m := range s.managers {
		pprof, err := devstack.FreeAddr()
		if err != nil {
			return nil, err
		}
		m.Args = append(m.Args, "--pprof-addr", pprof)
		s.metricsAddrs = append(s.metricsAddrs, m.MetricsAddr)
		s.pprofAddrs = append(s.pprofAddrs, pprof)
		if err := m.Start(); err != nil {
			return nil, err
		}
	}
	s.manager = s.managers[0]
	s.fly = &flyside.Client{BaseURL: s.manager.GatewayURL(), Secret: []byte(secret)}
	for _, m := range s.managers {
		if err := m.WaitGateway(ctx, 2*time.Minute); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// close stops the manager, flysim and the control plane.
func (s *stack) close() {
	var errs []error
	for _, m := range s.managers {
		errs = append(errs, m.Stop())
	}
	if s.simSrv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = s.simSrv.Shutdown(ctx)
		cancel()
	}
	if s.sim != nil {
		s.sim.Close()
	}
	if s.cp != nil {
		errs = append(errs, s.cp.Stop())
	}
	_ = errors.Join(errs...) // a stack that will not stop is not a figure
}

// scheme has what the benchmark reads and writes directly. It is the
// harness's own, not the manager's, which would link the product.
func scheme() *runtime.Scheme {
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		panic("bench: " + err.Error())
	}
	if err := jetwayv1.AddToScheme(s); err != nil {
		panic("bench: " + err.Error())
	}
	return s
}
