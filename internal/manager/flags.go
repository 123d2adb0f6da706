package manager

import (
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/jetway-dev/jetway/controllers/extension"
	"github.com/jetway-dev/jetway/controllers/notifier"
	"github.com/jetway-dev/jetway/controllers/sweepers"
	"github.com/jetway-dev/jetway/internal/billing"
	"github.com/jetway-dev/jetway/internal/dashboard"
	"github.com/jetway-dev/jetway/internal/domain"
	"github.com/jetway-dev/jetway/internal/election"
	"github.com/jetway-dev/jetway/internal/gateway"
)

// Flags are the manager settings shared by `jetway manager` and
// `jetway-dev up`, which runs the same manager in process.
type Flags struct {
	GatewayAddr     string
	ExternalURL     string
	BasePath        string
	MaxBodyBytes    int64
	DefaultRegion   string
	AppNamePrefix   string
	DNSZone         string
	DNSTTL          int64
	Resync          time.Duration
	FullCheck       time.Duration
	PollInterval    time.Duration
	Concurrency     int
	StateDir        string
	LocalNoncesOnly bool
	ReportOnly      bool
	ReportOnlyFor   time.Duration
	EventsAuth      string
	EventsToken     string
	EventInterval   time.Duration
	OrgMaxExts      int32
	OrgMaxMachines  int32
	MetricsAddr     string
	PprofAddr       string
	ProbeAddr       string
	DevelopmentLog  bool
	SweepInterval   time.Duration
	SweepGrace      time.Duration
	SweepDryRun     bool
	MaxInFlight     int
	WebhookURL      string
	WebhookSecret   string
	WebhookFirst    time.Duration
	WebhookMax      time.Duration
	WebhookGiveUp   time.Duration
	OAuthClientID   string
	OAuthSecret     string
	FlyOAuthURL     string
	SessionSecret   string
	SessionTTL      time.Duration
	WedgedAfter     time.Duration
	StalledRecheck  time.Duration
	TombstoneTTL    time.Duration
	ClaimsNamespace string
	BillingCurrency string
	BillingGrace    time.Duration
	Lease           election.Timings
	// The manager's access to the org namespaces (see namespaceAccess).
	ManagedNamespaceRole    string
	ServiceAccount          string
	ServiceAccountNamespace string
}

// Register adds the manager flags to cmd; defaultAddr is the gateway's.
func (f *Flags) Register(cmd *cobra.Command, defaultAddr string) {
	fs := cmd.Flags()
	fs.StringVar(&f.GatewayAddr, "gateway-addr", defaultAddr, "Address the Fly-facing gateway listens on")
	fs.StringVar(&f.ExternalURL, "external-url", "", "Origin Fly uses to reach the gateway, e.g. https://provider.example.com (default http://<gateway-addr>)")
	fs.StringVar(&f.BasePath, "base-path", "/flyio", "Path prefix of the Fly-facing API")
	fs.Int64Var(&f.MaxBodyBytes, "max-body-bytes", 64<<10, "Largest request body the gateway accepts")
	fs.IntVar(&f.MaxInFlight, "max-in-flight", 256, "Gateway requests worked on at once; more wait a second, then get 503 with Retry-After")
	fs.StringVar(&f.ClaimsNamespace, "claims-namespace", "", "Namespace of the Leases that keep extension names unique (default: the manager's own namespace)")
	fs.StringVar(&f.DefaultRegion, "default-region", "iad", "Primary region when Fly sends none")
	fs.StringVar(&f.AppNamePrefix, "app-name-prefix", "jetway", "Prefix of every Fly app name (never change it once extensions exist)")
	fs.StringVar(&f.DNSZone, "dns-zone", "ext.jetway.test", "DNS zone of extension host names")
	fs.Int64Var(&f.DNSTTL, "dns-ttl", 60, "TTL of extension DNS records, in seconds")
	fs.DurationVar(&f.Resync, "resync", 5*time.Minute, "How often a Ready extension is checked against Fly for drift")
	fs.DurationVar(&f.FullCheck, "full-check", 6*time.Hour, "How often a Ready, unchanged extension's app, app secrets and Flycast address are checked on Fly too; a resync in between lists only its machines (0: every resync)")
	fs.DurationVar(&f.PollInterval, "poll-interval", 2*time.Second, "How soon a pass waiting on Fly looks again")
	fs.IntVar(&f.Concurrency, "concurrency", 4, "Extensions reconciled in parallel")
	fs.DurationVar(&f.WedgedAfter, "machine-wedged-after", 5*time.Minute, "How long a machine may stay starting, stopping etc. before it counts as wedged: replicas are replaced, primaries reported (0: never)")
	fs.DurationVar(&f.StalledRecheck, "stalled-recheck", 15*time.Minute, "How often a Stalled extension is tried again without any change, in case the cause went away on Fly's side (0: only on a change)")
	fs.StringVar(&f.StateDir, "state-dir", "/var/lib/jetway", "Directory for the gateway's nonce store")
	fs.BoolVar(&f.ReportOnly, "signing-report-only", false, "Onboarding with Fly: log and count, instead of refusing, a signed url that is not this endpoint and signing parameters sent outside the signed bytes; signatures, timestamps and nonces are always enforced")
	fs.DurationVar(&f.ReportOnlyFor, "signing-report-only-for", 24*time.Hour, "How long --signing-report-only lasts from the start of the process, then every check refuses again (at most 7 days)")
	fs.StringVar(&f.EventsAuth, "machine-events-auth", gateway.EventsAuthNone, "How Fly's machine events are authenticated: none (Fly documents no signature; an event only asks for a rate-limited look), token (--machine-events-token as a Bearer token or token query parameter) or hmac (X-Signature with the provisioning secret, Jetway's own scheme)")
	fs.StringVar(&f.EventsToken, "machine-events-token", "", "Shared token machine events must carry with --machine-events-auth=token (prefer the environment variable)")
	fs.DurationVar(&f.EventInterval, "machine-event-interval", time.Second, "Least time between two looks at Fly that one extension's machine events ask for; the events in between fold into one look")
	fs.Int32Var(&f.OrgMaxExts, "org-max-extensions", 0, "Most extensions Fly may provision for one organization at once, unless its Organization's spec.quota says otherwise (0: no limit)")
	fs.Int32Var(&f.OrgMaxMachines, "org-max-machines", 0, "Most machines one organization's extensions may run at once (a primary and a replica per read region each), unless its Organization's spec.quota says otherwise (0: no limit)")
	fs.BoolVar(&f.LocalNoncesOnly, "local-nonces-only", false, "Keep replay protection to each replica's own nonce store, saving one API server write per changing request; safe only when a single replica serves Fly")
	fs.StringVar(&f.MetricsAddr, "metrics-addr", ":8443", "Metrics address (\"0\" disables)")
	fs.StringVar(&f.PprofAddr, "pprof-addr", "0", "Address serving Go's profiles at /debug/pprof/ (\"0\" disables; keep it private)")
	fs.StringVar(&f.ProbeAddr, "health-probe-addr", ":8081", "Health probe address (\"0\" disables)")
	fs.BoolVar(&f.DevelopmentLog, "dev-log", false, "Human-readable logs instead of JSON")
	fs.StringVar(&f.WebhookURL, "fly-webhook-url", "", "Fly's webhook URL for this provider, e.g. https://api.fly.io/api/hooks/extensions/<provider> (empty: no webhooks; under jetway-dev up, flysim's webhook endpoint)")
	fs.StringVar(&f.WebhookSecret, "webhook-secret", "", "Secret that signs webhooks to Fly (separate from the provisioning secret)")
	fs.DurationVar(&f.WebhookFirst, "webhook-first-retry", time.Second, "Wait after a webhook's first failed attempt; doubles with jitter")
	fs.DurationVar(&f.WebhookMax, "webhook-max-retry-interval", 10*time.Minute, "Longest wait between webhook attempts")
	fs.DurationVar(&f.WebhookGiveUp, "webhook-give-up-after", 72*time.Hour, "How long one webhook is retried before Jetway gives up on it")
	fs.DurationVar(&f.SweepInterval, "sweep-interval", 10*time.Minute, "How often to look for orphaned Fly apps and machines (0 disables the sweeper)")
	fs.DurationVar(&f.SweepGrace, "sweep-grace", 10*time.Minute, "How long something must stay orphaned before the sweeper removes it")
	fs.BoolVar(&f.SweepDryRun, "sweep-dry-run", false, "Report orphans (log and metric) without removing them")
	fs.DurationVar(&f.TombstoneTTL, "tombstone-ttl", 30*24*time.Hour, "How long a deleted extension is remembered, so Fly's repeated DELETE answers 200 (0: forever)")
	fs.StringVar(&f.OAuthClientID, "oauth-client-id", "", "The provider's OAuth client id at Fly, for dashboard sign-in (empty: sign-in off)")
	fs.StringVar(&f.OAuthSecret, "oauth-client-secret", "", "The provider's OAuth client secret at Fly (prefer the environment variable)")
	fs.StringVar(&f.FlyOAuthURL, "fly-oauth-url", "https://api.fly.io", "Origin of Fly's OAuth server (/oauth/authorize, /oauth/token, /oauth/token/info)")
	fs.StringVar(&f.SessionSecret, "session-secret", "", "Secret(s) of at least 32 bytes sealing dashboard cookies, comma-separated while rotating (first seals)")
	fs.StringVar(&f.BillingCurrency, "billing-currency", "USD", "ISO 4217 currency Jetway bills in; plans priced in another are metered unpriced")
	fs.DurationVar(&f.BillingGrace, "billing-close-grace", time.Hour, "How long after a UTC day ends its bill waits for every machine and volume to be proven past midnight before it is published anyway, unproven time unbilled")
	fs.DurationVar(&f.SessionTTL, "session-ttl", 2*time.Hour, "Longest dashboard session; never longer than Fly's grant")
	fs.DurationVar(&f.Lease.LeaseDuration, "leader-elect-lease-duration", election.DefaultLeaseDuration, "How long a standby waits after the leader's last renewal before it leads: the bound of a failover when the leader dies (whole seconds)")
	fs.DurationVar(&f.Lease.RenewDeadline, "leader-elect-renew-deadline", election.DefaultRenewDeadline, "How long the leader retries a failed lease renewal before it stops leading and exits: an API server outage longer than this restarts the leader")
	fs.DurationVar(&f.Lease.RetryPeriod, "leader-elect-retry-period", election.DefaultRetryPeriod, "How often the leader renews its lease and a standby looks at it: a released lease (graceful stop) is taken within about 2 of these")
	fs.StringVar(&f.ManagedNamespaceRole, "managed-namespace-role", "jetway-managed-namespace", "ClusterRole the manager binds to its ServiceAccount in each organization namespace it makes (its Secrets live there only)")
	fs.StringVar(&f.ServiceAccount, "service-account", "", "The manager's own ServiceAccount, bound in each organization namespace (empty: bind nothing, for credentials that reach every namespace already)")
	fs.StringVar(&f.ServiceAccountNamespace, "service-account-namespace", "", "Namespace of --service-account (default: the pod's own)")
}

// Options turns the flags into manager Options; secrets are the
// provisioning secrets shared with Fly. The caller adds what only it knows
// (the REST config, the Fly client options, leader election).
func (f *Flags) Options(secrets [][]byte) Options {
	external := f.ExternalURL
	if external == "" {
		external = "http://" + f.GatewayAddr
	}
	return Options{
		MetricsAddr: f.MetricsAddr,
		PprofAddr:   f.PprofAddr,
		ProbeAddr:   f.ProbeAddr,
		Lease:       f.Lease,
		Gateway: gateway.Config{
			Addr:          f.GatewayAddr,
			ExternalURL:   external,
			BasePath:      f.BasePath,
			MaxBodyBytes:  f.MaxBodyBytes,
			MaxInFlight:   f.MaxInFlight,
			DefaultRegion: f.DefaultRegion,
			Quotas:        gateway.Quotas{MaxExtensions: f.OrgMaxExts, MaxMachines: f.OrgMaxMachines},
			Events: gateway.EventSettings{
				Auth: f.EventsAuth, Token: []byte(f.EventsToken), MinInterval: f.EventInterval,
			},
		},
		Dashboard: dashboard.Config{
			ClientID:       f.OAuthClientID,
			ClientSecret:   f.OAuthSecret,
			FlyOAuthURL:    f.FlyOAuthURL,
			SessionSecrets: ParseSecrets(f.SessionSecret),
			SessionTTL:     f.SessionTTL,
		},
		SharedSecrets: secrets,
		WebhookURL:    f.WebhookURL,
		WebhookSecret: []byte(f.WebhookSecret),
		Notifier: notifier.Settings{
			FirstRetry:              f.WebhookFirst,
			MaxRetryInterval:        f.WebhookMax,
			GiveUpAfter:             f.WebhookGiveUp,
			FailingAfter:            3,
			MaxConcurrentReconciles: 8,
		},
		Sweeper: sweepers.OrphanSettings{
			Interval:    f.SweepInterval,
			GracePeriod: f.SweepGrace,
			DryRun:      f.SweepDryRun,
		},
		StateDir:             f.StateDir,
		LocalNoncesOnly:      f.LocalNoncesOnly,
		SigningReportOnly:    f.ReportOnly,
		SigningReportOnlyFor: f.ReportOnlyFor,
		TombstoneTTL:         f.TombstoneTTL,
		Billing: billing.Settings{
			Currency:   f.BillingCurrency,
			CloseGrace: f.BillingGrace,
		},
		Domain: domain.Settings{
			AppNamePrefix:   f.AppNamePrefix,
			DNSZone:         f.DNSZone,
			ClaimsNamespace: f.ClaimsNamespace,
			Access:          f.namespaceAccess(),
		},
		Controllers: extension.Settings{
			DNSTTL:                  f.DNSTTL,
			Resync:                  f.Resync,
			FullCheck:               f.FullCheck,
			PollInterval:            f.PollInterval,
			MaxConcurrentReconciles: f.Concurrency,
			WedgedAfter:             f.WedgedAfter,
			StalledRecheck:          f.StalledRecheck,
			MachineEventInterval:    f.EventInterval,
		},
	}
}

// ParseSecrets splits a comma-separated list of secrets (rotation: old,new).
func ParseSecrets(v string) [][]byte {
	var out [][]byte
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, []byte(s))
		}
	}
	return out
}
