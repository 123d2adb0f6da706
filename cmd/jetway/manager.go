package main

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/jetway-dev/jetway/controllers"
	"github.com/jetway-dev/jetway/internal/dashboard"
	"github.com/jetway-dev/jetway/internal/fly"
	"github.com/jetway-dev/jetway/internal/gateway"
	"github.com/jetway-dev/jetway/internal/manager"
)

// managerFlags are the settings shared by `jetway manager` and `jetway dev`.
type managerFlags struct {
	gatewayAddr    string
	externalURL    string
	basePath       string
	maxBodyBytes   int64
	defaultRegion  string
	appNamePrefix  string
	dnsZone        string
	dnsTTL         int64
	resync         time.Duration
	pollInterval   time.Duration
	concurrency    int
	stateDir       string
	metricsAddr    string
	probeAddr      string
	developmentLog bool
	sweepInterval  time.Duration
	sweepGrace     time.Duration
	sweepDryRun    bool
	maxInFlight    int
	webhookURL     string
	webhookSecret  string
	webhookFirst   time.Duration
	webhookMax     time.Duration
	webhookGiveUp  time.Duration
	oauthClientID  string
	oauthSecret    string
	flyOAuthURL    string
	sessionSecret  string
	sessionTTL     time.Duration
	wedgedAfter    time.Duration
	stalledRecheck time.Duration
	tombstoneTTL   time.Duration
	claimsNS       string
}

func (f *managerFlags) register(cmd *cobra.Command, defaultAddr string) {
	fs := cmd.Flags()
	fs.StringVar(&f.gatewayAddr, "gateway-addr", defaultAddr, "Address the Fly-facing gateway listens on")
	fs.StringVar(&f.externalURL, "external-url", "", "Origin Fly uses to reach the gateway, e.g. https://provider.example.com (default http://<gateway-addr>)")
	fs.StringVar(&f.basePath, "base-path", "/flyio", "Path prefix of the Fly-facing API")
	fs.Int64Var(&f.maxBodyBytes, "max-body-bytes", 64<<10, "Largest request body the gateway accepts")
	fs.IntVar(&f.maxInFlight, "max-in-flight", 256, "Gateway requests worked on at once; more wait a second, then get 503 with Retry-After")
	fs.StringVar(&f.claimsNS, "claims-namespace", "", "Namespace of the Leases that keep extension names unique (default: the manager's own namespace)")
	fs.StringVar(&f.defaultRegion, "default-region", "iad", "Primary region when Fly sends none")
	fs.StringVar(&f.appNamePrefix, "app-name-prefix", "jetway", "Prefix of every Fly app name (never change it once extensions exist)")
	fs.StringVar(&f.dnsZone, "dns-zone", "ext.jetway.test", "DNS zone of extension host names")
	fs.Int64Var(&f.dnsTTL, "dns-ttl", 60, "TTL of extension DNS records, in seconds")
	fs.DurationVar(&f.resync, "resync", 5*time.Minute, "How often a Ready extension is checked against Fly for drift")
	fs.DurationVar(&f.pollInterval, "poll-interval", 2*time.Second, "How soon a pass waiting on Fly looks again")
	fs.IntVar(&f.concurrency, "concurrency", 4, "Extensions reconciled in parallel")
	fs.DurationVar(&f.wedgedAfter, "machine-wedged-after", 5*time.Minute, "How long a machine may stay starting, stopping etc. before it counts as wedged: replicas are replaced, primaries reported (0: never)")
	fs.DurationVar(&f.stalledRecheck, "stalled-recheck", 15*time.Minute, "How often a Stalled extension is tried again without any change, in case the cause went away on Fly's side (0: only on a change)")
	fs.StringVar(&f.stateDir, "state-dir", "/var/lib/jetway", "Directory for the gateway's nonce store")
	fs.StringVar(&f.metricsAddr, "metrics-addr", ":8443", "Metrics address (\"0\" disables)")
	fs.StringVar(&f.probeAddr, "health-probe-addr", ":8081", "Health probe address (\"0\" disables)")
	fs.BoolVar(&f.developmentLog, "dev-log", false, "Human-readable logs instead of JSON")
	fs.StringVar(&f.webhookURL, "fly-webhook-url", "", "Fly's webhook URL for this provider, e.g. https://api.fly.io/api/hooks/extensions/<provider> (empty: no webhooks)")
	fs.StringVar(&f.webhookSecret, "webhook-secret", "", "Secret that signs webhooks to Fly (separate from the provisioning secret)")
	fs.DurationVar(&f.webhookFirst, "webhook-first-retry", time.Second, "Wait after a webhook's first failed attempt; doubles with jitter")
	fs.DurationVar(&f.webhookMax, "webhook-max-retry-interval", 10*time.Minute, "Longest wait between webhook attempts")
	fs.DurationVar(&f.webhookGiveUp, "webhook-give-up-after", 72*time.Hour, "How long one webhook is retried before Jetway gives up on it")
	fs.DurationVar(&f.sweepInterval, "sweep-interval", 10*time.Minute, "How often to look for orphaned Fly apps and machines (0 disables the sweeper)")
	fs.DurationVar(&f.sweepGrace, "sweep-grace", 10*time.Minute, "How long something must stay orphaned before the sweeper removes it")
	fs.BoolVar(&f.sweepDryRun, "sweep-dry-run", false, "Report orphans (log and metric) without removing them")
	fs.DurationVar(&f.tombstoneTTL, "tombstone-ttl", 30*24*time.Hour, "How long a deleted extension is remembered, so Fly's repeated DELETE answers 200 (0: forever)")
	fs.StringVar(&f.oauthClientID, "oauth-client-id", "", "The provider's OAuth client id at Fly, for dashboard sign-in (empty: sign-in off)")
	fs.StringVar(&f.oauthSecret, "oauth-client-secret", "", "The provider's OAuth client secret at Fly (prefer the environment variable)")
	fs.StringVar(&f.flyOAuthURL, "fly-oauth-url", "https://api.fly.io", "Origin of Fly's OAuth server (/oauth/authorize, /oauth/token, /oauth/token/info)")
	fs.StringVar(&f.sessionSecret, "session-secret", "", "Secret(s) of at least 32 bytes sealing dashboard cookies, comma-separated while rotating (first seals)")
	fs.DurationVar(&f.sessionTTL, "session-ttl", 2*time.Hour, "Longest dashboard session; never longer than Fly's grant")
}

func (f *managerFlags) options(secrets [][]byte) manager.Options {
	external := f.externalURL
	if external == "" {
		external = "http://" + f.gatewayAddr
	}
	return manager.Options{
		MetricsAddr: f.metricsAddr,
		ProbeAddr:   f.probeAddr,
		Gateway: gateway.Config{
			Addr:            f.gatewayAddr,
			ExternalURL:     external,
			BasePath:        f.basePath,
			MaxBodyBytes:    f.maxBodyBytes,
			MaxInFlight:     f.maxInFlight,
			DefaultRegion:   f.defaultRegion,
			ClaimsNamespace: f.claimsNS,
		},
		Dashboard: dashboard.Config{
			ClientID:       f.oauthClientID,
			ClientSecret:   f.oauthSecret,
			FlyOAuthURL:    f.flyOAuthURL,
			SessionSecrets: parseSecrets(f.sessionSecret),
			SessionTTL:     f.sessionTTL,
		},
		SharedSecrets: secrets,
		WebhookURL:    f.webhookURL,
		WebhookSecret: []byte(f.webhookSecret),
		Notifier: controllers.NotifierSettings{
			FirstRetry:              f.webhookFirst,
			MaxRetryInterval:        f.webhookMax,
			GiveUpAfter:             f.webhookGiveUp,
			FailingAfter:            3,
			MaxConcurrentReconciles: 8,
		},
		Sweeper: controllers.SweeperSettings{
			Interval:    f.sweepInterval,
			GracePeriod: f.sweepGrace,
			DryRun:      f.sweepDryRun,
		},
		StateDir:     f.stateDir,
		TombstoneTTL: f.tombstoneTTL,
		Controllers: controllers.Settings{
			AppNamePrefix:           f.appNamePrefix,
			DNSZone:                 f.dnsZone,
			DNSTTL:                  f.dnsTTL,
			Resync:                  f.resync,
			PollInterval:            f.pollInterval,
			MaxConcurrentReconciles: f.concurrency,
			WedgedAfter:             f.wedgedAfter,
			StalledRecheck:          f.stalledRecheck,
		},
	}
}

// parseSecrets splits a comma-separated list of secrets (rotation: old,new).
func parseSecrets(v string) [][]byte {
	var out [][]byte
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, []byte(s))
		}
	}
	return out
}

func newManagerCommand() *cobra.Command {
	var (
		f              managerFlags
		sharedSecret   string
		flyAPIURL      string
		flyToken       string
		flyOrg         string
		leaderElection bool
		leaderNS       string
	)
	envNames := map[string]string{"fly-api-token": "FLY_API_TOKEN"}
	cmd := &cobra.Command{
		Use:   "manager",
		Short: "Run the gateway and controllers against a Kubernetes cluster and Fly's Machines API",
		Long: `Run Jetway in production: the Fly-facing gateway and all controllers, using
the in-cluster config or $KUBECONFIG, talking to Fly's Machines API.
Every flag can also be set with an environment variable (shown in brackets).`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := bindEnv(cmd, envNames); err != nil {
				return err
			}
			secrets := parseSecrets(sharedSecret)
			if len(secrets) == 0 {
				return errors.New("--shared-secret (or $JETWAY_SHARED_SECRET) is required")
			}
			if flyToken == "" {
				return errors.New("a Fly API token is required in $FLY_API_TOKEN")
			}
			if flyOrg == "" {
				return errors.New("--fly-org (the provider's Fly organization slug) is required")
			}
			ctrl.SetLogger(zap.New(zap.UseDevMode(f.developmentLog)))
			cfg, err := ctrl.GetConfig()
			if err != nil {
				return fmt.Errorf("load Kubernetes config: %w", err)
			}
			if err := os.MkdirAll(f.stateDir, 0o700); err != nil {
				return fmt.Errorf("create state dir: %w", err)
			}
			opts := f.options(secrets)
			opts.RestConfig = cfg
			opts.LeaderElection = leaderElection
			opts.LeaderElectionNamespace = leaderNS
			opts.Fly = fly.Options{BaseURL: flyAPIURL, Token: flyToken, OrgSlug: flyOrg}
			opts.Log = ctrl.Log
			return manager.Run(ctrl.SetupSignalHandler(), opts)
		},
	}
	f.register(cmd, ":8080")
	fs := cmd.Flags()
	fs.StringVar(&sharedSecret, "shared-secret", "", "Provisioning secret(s) shared with Fly, comma-separated while rotating")
	fs.StringVar(&flyAPIURL, "fly-api-url", "https://api.machines.dev", "Fly Machines API base URL")
	fs.StringVar(&flyToken, "fly-api-token", "", "Fly API token (prefer the environment variable)")
	fs.StringVar(&flyOrg, "fly-org", "", "The provider's Fly organization slug, where extension apps are created")
	fs.BoolVar(&leaderElection, "leader-elect", true, "Elect one active controller among replicas (the gateway serves on all)")
	fs.StringVar(&leaderNS, "leader-election-namespace", "", "Namespace of the leader election lease (default: the pod's)")
	envHelp(cmd, envNames)
	return cmd
}
