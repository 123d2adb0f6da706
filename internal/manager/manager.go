// Package manager assembles Jetway: the controller-runtime manager with the
// Extension and Organization controllers, and the Fly-facing gateway, in
// one process. `jetway manager` runs it against a real cluster and Fly;
// `jetway-dev up` runs it against a local control plane and the Fly stand-in.
package manager

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
	billingctl "github.com/jetway-dev/jetway/controllers/billing"
	"github.com/jetway-dev/jetway/controllers/extension"
	"github.com/jetway-dev/jetway/controllers/notifier"
	"github.com/jetway-dev/jetway/controllers/organization"
	"github.com/jetway-dev/jetway/controllers/sweepers"
	"github.com/jetway-dev/jetway/internal/billing"
	"github.com/jetway-dev/jetway/internal/dashboard"
	"github.com/jetway-dev/jetway/internal/dns/externaldns"
	"github.com/jetway-dev/jetway/internal/domain"
	"github.com/jetway-dev/jetway/internal/election"
	"github.com/jetway-dev/jetway/internal/fly"
	"github.com/jetway-dev/jetway/internal/gateway"
	"github.com/jetway-dev/jetway/internal/replay"
	"github.com/jetway-dev/jetway/internal/signing"
	"github.com/jetway-dev/jetway/internal/webhook"
)

// MaxReportOnly bounds report-only signing: it is for onboarding, and a
// forgotten setting must not leave the url check off for good.
const MaxReportOnly = 7 * 24 * time.Hour

// Options configure a Jetway process.
type Options struct {
	// RestConfig reaches the Kubernetes API server.
	RestConfig *rest.Config

	MetricsAddr string // "0" disables metrics
	ProbeAddr   string // "0" disables health probes

	LeaderElection          bool
	LeaderElectionNamespace string
	LeaderElectionID        string
	// Lease is the leader election's timings; zero ones take the defaults.
	Lease election.Timings

	// Domain is the provider-wide naming (app name prefix, DNS zone, the
	// name claims' namespace), built once and handed to the gateway, the
	// controllers and the dashboard alike. An empty ClaimsNamespace is
	// resolved here (see claimsNamespace).
	Domain domain.Settings
	// Gateway is the gateway's configuration, without its verifier and
	// naming.
	Gateway gateway.Config
	// Dashboard configures SSO and the dashboard, served by the gateway;
	// its URL and base path are taken from Gateway, its naming from
	// Domain.
	Dashboard dashboard.Config
	// PprofAddr serves Go's profiles (net/http/pprof); empty or "0" serves
	// none.
	PprofAddr string
	// DisableGateway runs only the controllers.
	DisableGateway bool
	// SharedSecrets are the provisioning secrets accepted from Fly (several
	// while rotating).
	SharedSecrets [][]byte
	// StateDir holds the nonce store.
	StateDir string
	// LocalNoncesOnly leaves replay protection to each replica's own nonce
	// store: no cluster-wide record of accepted nonces (package replay),
	// so no API server write per changing request, and a request replayed
	// to another replica is not caught. Only for a single replica.
	LocalNoncesOnly bool
	// SigningReportOnly runs the signature check report-only for
	// SigningReportOnlyFor from the start (signing.Verifier,
	// ReportOnlyUntil), which must be positive and at most MaxReportOnly.
	SigningReportOnly    bool
	SigningReportOnlyFor time.Duration

	// Fly configures the Machines API client; FlyClient, if set, is used
	// instead (tests).
	Fly       fly.Options
	FlyClient fly.Client

	// Controllers are the Extension controller's settings, but for its
	// naming (Domain).
	Controllers extension.Settings
	// WebhookURL is Fly's webhook endpoint for this provider; empty
	// disables the notifier. WebhookSecret signs the webhooks.
	WebhookURL    string
	WebhookSecret []byte
	// Notifier configures webhook retries.
	Notifier notifier.Settings
	// Sweeper configures the orphan sweeper; a zero Interval disables it.
	Sweeper sweepers.OrphanSettings
	// Billing is the provider-wide billing choices, handed to the meter,
	// the billing controller and the gateway alike.
	Billing billing.Settings
	// TombstoneTTL is how long a deleted extension's tombstone is kept
	// (repeated DELETEs answer 200 meanwhile); 0 keeps them forever.
	TombstoneTTL time.Duration

	Log logr.Logger

	// RestartableInProcess lets a test stop Jetway and start it again in the
	// same process: controller-runtime otherwise refuses a second controller
	// with a name it has seen, to keep metric names unique.
	RestartableInProcess bool
}

// NewScheme returns the scheme with every type Jetway reads or writes.
func NewScheme() *runtime.Scheme {
	s := runtime.NewScheme()
	must(clientgoscheme.AddToScheme(s))
	must(jetwayv1.AddToScheme(s))
	must(externaldns.AddToScheme(s))
	return s
}

func must(err error) {
	if err != nil {
		panic(err)
	}
}

// Run starts Jetway and blocks until ctx ends, then stops everything:
// the gateway drains in-flight requests, the controllers finish their
// passes, the nonce store closes.
func Run(ctx context.Context, opts Options) error {
	if opts.RestConfig == nil {
		return errors.New("no Kubernetes API configuration")
	}
	if q := opts.Gateway.Quotas; q.MaxExtensions < 0 || q.MaxMachines < 0 {
		return fmt.Errorf("--org-max-extensions and --org-max-machines must be 0 (no limit) or more, got %d and %d", q.MaxExtensions, q.MaxMachines)
	}
	if opts.SigningReportOnly && (opts.SigningReportOnlyFor <= 0 || opts.SigningReportOnlyFor > MaxReportOnly) {
		return fmt.Errorf("--signing-report-only-for must be more than 0 and at most %s (report-only is for onboarding), got %s", MaxReportOnly, opts.SigningReportOnlyFor)
	}
	lease := opts.Lease.WithDefaults()
	if err := lease.Validate(); err != nil {
		return err
	}
	scheme := NewScheme()
	mgr, err := ctrl.NewManager(opts.RestConfig, ctrl.Options{
		Scheme:                  scheme,
		Logger:                  opts.Log,
		Metrics:                 metricsserver.Options{BindAddress: orDefault(opts.MetricsAddr, "0")},
		HealthProbeBindAddress:  orDefault(opts.ProbeAddr, "0"),
		LeaderElection:          opts.LeaderElection,
		LeaderElectionID:        orDefault(opts.LeaderElectionID, "jetway-manager.jetway.dev"),
		LeaderElectionNamespace: opts.LeaderElectionNamespace,
		// Leaving on shutdown lets a standby take over at once in upgrades.
		LeaderElectionReleaseOnCancel: true,
		LeaseDuration:                 &lease.LeaseDuration,
		RenewDeadline:                 &lease.RenewDeadline,
		RetryPeriod:                   &lease.RetryPeriod,
		// Off unless asked for ("" or "0" is off); the profiles show the
		// process's memory, so bind it where only operators reach.
		PprofBindAddress: opts.PprofAddr,
		Cache: cache.Options{
			// Nothing reads managedFields from the cache (status writes are
			// server-side applies, which the API server merges), and they
			// are a large part of every cached object: P5 in make bench.
			DefaultTransform: cache.TransformStripManagedFields(),
			ByObject: map[client.Object]cache.ByObject{
				// The only ConfigMaps Jetway reads are its tombstones; the
				// cache need not hold anybody else's.
				&corev1.ConfigMap{}: {Label: tombstoneSelector()},
			}},
		GracefulShutdownTimeout: durationPtr(30 * time.Second),
		Controller:              config.Controller{SkipNameValidation: &opts.RestartableInProcess},
	})
	if err != nil {
		return fmt.Errorf("create manager: %w", err)
	}
	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		return err
	}
	if err := mgr.AddReadyzCheck("readyz", healthz.Ping); err != nil {
		return err
	}

	flyClient := opts.FlyClient
	if flyClient == nil {
		flyClient, err = fly.New(ctx, opts.Fly)
		if err != nil {
			return err
		}
	}
	if err := domain.SetupIndexes(ctx, mgr.GetFieldIndexer()); err != nil {
		return err
	}
	if opts.Billing.Currency == "" {
		opts.Billing.Currency = "USD"
	}
	// The one naming value every consumer gets.
	names := opts.Domain
	names.ClaimsNamespace = claimsNamespace(opts)
	if err := addControllers(mgr, opts, flyClient, names); err != nil {
		return err
	}
	if !opts.DisableGateway {
		closeNonces, err := addGateway(ctx, mgr, opts, names)
		if err != nil {
			return err
		}
		defer closeNonces()
	}
	opts.Log.Info("Starting Jetway", "namespaceRole", names.Access.Role, "bindsItselfInOrgNamespaces", names.Access.Enabled())
	return mgr.Start(ctx)
}

// addControllers registers every loop, each with a client that writes as
// its own field manager, so managedFields tell who wrote what.
func addControllers(mgr ctrl.Manager, opts Options, flyClient fly.Client, names domain.Settings) error {
	extSettings := opts.Controllers
	extSettings.Domain = names
	extSettings.Billing = opts.Billing
	if err := (&extension.Reconciler{
		Client:    client.WithFieldOwner(mgr.GetClient(), string(extension.FieldOwner)),
		APIReader: mgr.GetAPIReader(),
		Scheme:    mgr.GetScheme(),
		Fly:       flyClient,
		Recorder:  mgr.GetEventRecorder("jetway-extension"),
		Settings:  extSettings,
	}).SetupWithManager(mgr); err != nil {
		return fmt.Errorf("set up extension controller: %w", err)
	}
	orgs := &organization.Reconciler{Client: client.WithFieldOwner(mgr.GetClient(), string(organization.FieldOwner)),
		Live: mgr.GetAPIReader(), Access: names.Access}
	if err := orgs.SetupWithManager(mgr); err != nil {
		return fmt.Errorf("set up organization controller: %w", err)
	}
	if err := (&organization.ExtensionAccounts{
		Client: client.WithFieldOwner(mgr.GetClient(), string(organization.AccountsFieldOwner)),
		Live:   mgr.GetAPIReader(),
		Access: names.Access,
	}).SetupWithManager(mgr); err != nil {
		return fmt.Errorf("set up extension accounts controller: %w", err)
	}

	if err := (&billingctl.Reconciler{
		Client:       client.WithFieldOwner(mgr.GetClient(), string(billingctl.FieldOwner)),
		Settings:     opts.Billing,
		Resync:       extSettings.Resync,
		PollInterval: max(extSettings.PollInterval, time.Second),
	}).SetupWithManager(mgr); err != nil {
		return fmt.Errorf("set up billing controller: %w", err)
	}

	if opts.WebhookURL != "" {
		if len(opts.WebhookSecret) == 0 {
			return errors.New("a webhook secret is required to notify Fly")
		}
		ns := opts.Notifier
		ns.Domain = names
		if err := (&notifier.Reconciler{
			Client:    client.WithFieldOwner(mgr.GetClient(), string(notifier.FieldOwner)),
			APIReader: mgr.GetAPIReader(),
			Sender:    &webhook.Sender{URL: opts.WebhookURL, Secret: opts.WebhookSecret},
			Recorder:  mgr.GetEventRecorder("jetway-notifier"),
			Settings:  ns,
		}).SetupWithManager(mgr); err != nil {
			return fmt.Errorf("set up notifier: %w", err)
		}
	}

	if opts.Sweeper.Interval > 0 {
		sweeper := opts.Sweeper
		sweeper.Domain = names
		if err := mgr.Add(&sweepers.OrphanSweeper{
			Client:    client.WithFieldOwner(mgr.GetClient(), string(sweepers.OrphanSweeperFieldOwner)),
			APIReader: mgr.GetAPIReader(), Fly: flyClient,
			Recorder: mgr.GetEventRecorder("jetway-orphan-sweeper"),
			Settings: sweeper, Log: opts.Log.WithName("orphan-sweeper"),
		}); err != nil {
			return fmt.Errorf("add orphan sweeper: %w", err)
		}
	}

	if !opts.LocalNoncesOnly {
		// Every replica's gateway writes records; the leader sweeps them.
		if err := mgr.Add(&sweepers.NonceRecordSweeper{
			Client:    client.WithFieldOwner(mgr.GetClient(), string(sweepers.NonceRecordSweeperFieldOwner)),
			Reader:    mgr.GetAPIReader(),
			Namespace: names.ClaimsNamespace, Interval: time.Minute,
			Log: opts.Log.WithName("nonce-record-sweeper"),
		}); err != nil {
			return fmt.Errorf("add nonce record sweeper: %w", err)
		}
	}

	if opts.TombstoneTTL > 0 {
		if err := mgr.Add(&sweepers.TombstoneSweeper{
			Client: client.WithFieldOwner(mgr.GetClient(), string(sweepers.TombstoneSweeperFieldOwner)),
			Reader: mgr.GetAPIReader(), TTL: opts.TombstoneTTL,
			Interval: min(time.Hour, opts.TombstoneTTL), Log: opts.Log.WithName("tombstone-sweeper"),
		}); err != nil {
			return fmt.Errorf("add tombstone sweeper: %w", err)
		}
	}
	return nil
}

// addGateway registers the Fly-facing gateway with the dashboard's routes.
// The returned func closes the nonce store; call it once the manager has
// stopped, after the gateway drained.
func addGateway(ctx context.Context, mgr ctrl.Manager, opts Options, names domain.Settings) (func(), error) {
	nonces, err := signing.OpenNonceStore(filepath.Join(opts.StateDir, "nonces.db"), 2*signing.DefaultMaxSkew)
	if err != nil {
		return nil, fmt.Errorf("open nonce store: %w", err)
	}
	gcfg := opts.Gateway
	gcfg.Verifier = &signing.Verifier{Secrets: opts.SharedSecrets, Nonces: nonces}
	if opts.SigningReportOnly {
		gcfg.Verifier.ReportOnlyUntil = time.Now().Add(opts.SigningReportOnlyFor)
	}
	if !opts.LocalNoncesOnly {
		gcfg.ReplayLedger = &replay.Ledger{Client: mgr.GetClient(), Live: mgr.GetAPIReader(),
			Namespace: names.ClaimsNamespace, Holder: replicaName()}
	}
	gcfg.Domain = names
	gcfg.Billing = opts.Billing
	dash, err := newDashboard(ctx, mgr, opts, names)
	if err != nil {
		return nil, errors.Join(err, nonces.Close())
	}
	gcfg.Browser = dash
	gcfg.Finalizers = []string{jetwayv1.Finalizer}
	if opts.WebhookURL != "" {
		gcfg.Finalizers = append(gcfg.Finalizers, jetwayv1.NotifyFinalizer)
	}
	gcfg.WarmUp = func(ctx context.Context) error { return warmCaches(ctx, mgr.GetCache()) }
	gw, err := gateway.New(gcfg, mgr.GetClient(), mgr.GetAPIReader(), mgr.GetScheme(), opts.Log.WithName("gateway"))
	if err != nil {
		return nil, errors.Join(err, nonces.Close())
	}
	gw.WithRecorder(mgr.GetEventRecorder("jetway-gateway"))
	if err := mgr.Add(gw); err != nil {
		return nil, errors.Join(fmt.Errorf("add gateway: %w", err), nonces.Close())
	}
	return func() { _ = nonces.Close() }, nil
}

// replicaName names this process in the records it writes: the hostname,
// which Kubernetes sets to the pod's name.
func replicaName() string {
	if host, err := os.Hostname(); err == nil {
		return host
	}
	return "jetway"
}

// newDashboard builds the SSO endpoints and dashboard pages the gateway
// serves. With no OAuth client configured they answer that sign-in is off.
func newDashboard(ctx context.Context, mgr ctrl.Manager, opts Options, names domain.Settings) (*dashboard.Handler, error) {
	cfg := opts.Dashboard
	cfg.ExternalURL = opts.Gateway.ExternalURL
	cfg.BasePath = opts.Gateway.BasePath
	cfg.Domain = names
	cfg.Billing = opts.Billing
	cached, live := mgr.GetClient(), mgr.GetAPIReader()
	find := func(ctx context.Context, id string) (*jetwayv1.Extension, error) {
		return domain.FindExtensionByID(ctx, cached, live, id)
	}
	dash, err := dashboard.New(cfg, cached, live, find, opts.Log.WithName("dashboard"))
	if err != nil {
		return nil, err
	}
	if cfg.ClientID == "" {
		opts.Log.Info("Dashboard sign-in is off: no OAuth client id (--oauth-client-id)")
	}
	return dash, nil
}

// claimsNamespace is where the gateway keeps its name claims: the
// configured one, else the leader election namespace, else the pod's own
// (where the leader election Role already grants Leases), else "default".
func claimsNamespace(opts Options) string {
	if opts.Domain.ClaimsNamespace != "" {
		return opts.Domain.ClaimsNamespace
	}
	if opts.LeaderElectionNamespace != "" {
		return opts.LeaderElectionNamespace
	}
	if ns, err := os.ReadFile("/var/run/secrets/kubernetes.io/serviceaccount/namespace"); err == nil && len(ns) > 0 {
		return strings.TrimSpace(string(ns))
	}
	return "default"
}

func orDefault(v, d string) string {
	if v == "" {
		return d
	}
	return v
}

func durationPtr(d time.Duration) *time.Duration { return &d }

// gatewayReads are the kinds the gateway and the dashboard read from the
// cache. The controllers' watches start their informers only once this
// replica leads; the gateway serves on every replica from its start.
var gatewayReads = []client.Object{
	&jetwayv1.Extension{}, &jetwayv1.ExtensionPlan{}, &jetwayv1.Organization{}, &corev1.ConfigMap{},
	&jetwayv1.UsageLedger{}, &jetwayv1.BillingDay{},
}

// warmCaches starts the informers for gatewayReads and waits until each has
// synced.
func warmCaches(ctx context.Context, c cache.Cache) error {
	for _, obj := range gatewayReads {
		if _, err := c.GetInformer(ctx, obj, cache.BlockUntilSynced(true)); err != nil {
			return fmt.Errorf("sync cache of %T: %w", obj, err)
		}
	}
	return nil
}
