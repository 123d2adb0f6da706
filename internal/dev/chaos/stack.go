package chaos

import (
	"context"
	"errors"
	"fmt"
	"io"
	corev1 "k8s.io/api/core/v1"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
	"github.com/jetway-dev/jetway/internal/dev/devstack"
	"github.com/jetway-dev/jetway/internal/dev/flyside"
	"github.com/jetway-dev/jetway/internal/dev/flysim"
)

// Names shared by the stack and the checks.
const (
	orgSlug   = "jetway-chaos"
	appPrefix = "jetway" // the manager's default --app-name-prefix
	// altPlan is the second plan plan changes switch to; it differs from
	// the default plan in image, so a plan change must reach every machine.
	altPlan  = "chaos-large"
	altImage = "registry.fly.io/logjam-large:1.0"
)

// StackOptions configure a Stack.
type StackOptions struct {
	Assets    string
	JetwayBin string
	// Dir holds everything the stack writes; it must exist.
	Dir      string
	Faults   flysim.Faults
	BootTime time.Duration
	// ManagerGOMAXPROCS, when positive, caps the manager's GOMAXPROCS.
	ManagerGOMAXPROCS int
	Log               io.Writer
}

// Stack is a local control plane, flysim on a loopback port and the jetway
// manager as a child process, wired together as in production.
type Stack struct {
	Dir     string
	K8s     client.Client
	Sim     *flysim.Server
	Manager *devstack.ManagerProcess
	// Fly plays Fly.io against the gateway.
	Fly *flyside.Client

	cp        *devstack.ControlPlane
	simServer *http.Server
}

// StartStack starts everything and waits until the gateway answers. On
// error, whatever was started is stopped again.
func StartStack(ctx context.Context, o StackOptions) (s *Stack, err error) {
	if o.Log == nil {
		o.Log = io.Discard
	}
	s = &Stack{Dir: o.Dir}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	fmt.Fprintln(o.Log, "chaos: starting the local control plane")
	s.cp, err = devstack.StartControlPlane(o.Assets, o.Dir)
	if err != nil {
		return nil, err
	}
	kubeconfig := filepath.Join(o.Dir, "kubeconfig")
	if err := os.WriteFile(kubeconfig, s.cp.Kubeconfig, 0o600); err != nil {
		return nil, fmt.Errorf("write kubeconfig: %w", err)
	}
	s.K8s, err = client.New(s.cp.Config, client.Options{Scheme: scheme()})
	if err != nil {
		return nil, fmt.Errorf("kubernetes client: %w", err)
	}
	if err := installPlans(ctx, s.K8s); err != nil {
		return nil, err
	}

	token, secret := devstack.RandomSecret(), devstack.RandomSecret()
	s.Sim = flysim.New(flysim.Options{Token: token, OrgSlug: orgSlug, BootTime: o.BootTime, Faults: o.Faults})
	simLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("flysim listen: %w", err)
	}
	s.simServer = &http.Server{Handler: s.Sim, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.simServer.Serve(simLn) }()

	gatewayAddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	s.Manager = &devstack.ManagerProcess{
		Bin:         o.JetwayBin,
		Kubeconfig:  kubeconfig,
		FlyURL:      "http://" + simLn.Addr().String(),
		FlyToken:    token,
		FlyOrg:      orgSlug,
		Secret:      secret,
		Args:        managerArgs(),
		GatewayAddr: gatewayAddr,
		StateDir:    filepath.Join(o.Dir, "state"),
		LogPath:     filepath.Join(o.Dir, "manager.log"),
		GOMAXPROCS:  o.ManagerGOMAXPROCS,
	}
	s.Fly = &flyside.Client{BaseURL: s.Manager.GatewayURL(), Secret: []byte(secret)}
	fmt.Fprintln(o.Log, "chaos: starting the manager process")
	if err := s.Manager.Start(); err != nil {
		return nil, err
	}
	if err := s.Manager.WaitGateway(ctx, 2*time.Minute); err != nil {
		return nil, err
	}
	return s, nil
}

// Close stops the manager, flysim and the control plane.
func (s *Stack) Close() error {
	var errs []error
	if s.Manager != nil {
		errs = append(errs, s.Manager.Stop())
	}
	if s.simServer != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = s.simServer.Shutdown(ctx)
		cancel()
	}
	if s.Sim != nil {
		s.Sim.Close()
	}
	if s.cp != nil {
		errs = append(errs, s.cp.Stop())
	}
	return errors.Join(errs...)
}

// installPlans installs the default plan and a second one for plan changes,
// both with storage (volumes.go): every machine of the run has a volume.
func installPlans(ctx context.Context, c client.Client) error {
	if err := devstack.InstallDefaultPlan(ctx, c); err != nil {
		return err
	}
	def, err := defaultPlan(ctx, c)
	if err != nil {
		return err
	}
	def.Spec.Storage = &jetwayv1.StorageSpec{SizeGB: chaosVolumeGB, MountPath: chaosVolumeMount}
	def.Spec.Pricing.VolumeGBHourMicros = chaosVolumeGBHourPrice
	if err := c.Update(ctx, def); err != nil {
		return fmt.Errorf("give plan %s storage: %w", def.Name, err)
	}
	alt := &jetwayv1.ExtensionPlan{ObjectMeta: metav1.ObjectMeta{Name: altPlan}, Spec: *def.Spec.DeepCopy()}
	alt.Spec.Default = false
	alt.Spec.DisplayName = "Chaos large"
	alt.Spec.Image = altImage
	if err := c.Create(ctx, alt); err != nil {
		return fmt.Errorf("install plan %s: %w", altPlan, err)
	}
	return nil
}

func defaultPlan(ctx context.Context, c client.Client) (*jetwayv1.ExtensionPlan, error) {
	var plans jetwayv1.ExtensionPlanList
	if err := c.List(ctx, &plans); err != nil {
		return nil, fmt.Errorf("list plans: %w", err)
	}
	for i := range plans.Items {
		if plans.Items[i].Spec.Default {
			return &plans.Items[i], nil
		}
	}
	return nil, errors.New("no default plan installed")
}

// freeAddr finds a loopback port nobody listens on.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// scheme has the kinds the chaos checks read and write, Extensions and
// Plans. It is the harness's own rather than the manager's NewScheme: the
// manager runs as a child process, and importing it would link the whole
// product (its request signing included) into the harness.
func scheme() *runtime.Scheme {
	s := runtime.NewScheme()
	// Core types for the billing history's namespace (history.go).
	if err := corev1.AddToScheme(s); err != nil {
		panic("chaos: " + err.Error())
	}
	if err := jetwayv1.AddToScheme(s); err != nil {
		panic("chaos: " + err.Error()) // only a duplicate registration fails
	}
	return s
}
