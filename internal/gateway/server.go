// Package gateway is the Fly-facing HTTP API: it checks Fly's signatures,
// turns provisioning calls into Extension objects and answers from their
// status. It never calls Fly: the controllers do, after the answer.
package gateway

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/recorder"

	"github.com/jetway-dev/jetway/internal/billing"
	"github.com/jetway-dev/jetway/internal/domain"
	"github.com/jetway-dev/jetway/internal/signing"
)

// Config is the gateway's configuration.
type Config struct {
	// Addr is the listen address, e.g. 127.0.0.1:8080.
	Addr string
	// ExternalURL is the origin Fly uses to reach the gateway (scheme and
	// host, e.g. https://provider.example.com). Signed `url` fields must
	// name it; it is not taken from the request, which a proxy may rewrite.
	ExternalURL string
	// BasePath prefixes every route; default /flyio.
	BasePath string
	// Verifier checks Fly's signatures.
	Verifier *signing.Verifier
	// ReplayLedger, when set, claims the nonce of every accepted request
	// that changes something, cluster-wide, so a request replayed to
	// another replica is refused as it is on the one that took it (package
	// replay). Nil leaves replay protection to the Verifier's own store:
	// enough for a single replica.
	ReplayLedger NonceLedger
	// MaxBodyBytes bounds request bodies; larger ones get 413.
	MaxBodyBytes int64
	// Domain is the provider-wide naming the controllers use too: the
	// answer to a provisioning call names the app and host before they
	// exist. Its ClaimsNamespace holds the Leases that make extension names
	// unique across organizations and replicas (see domain.ClaimName);
	// default "default".
	Domain domain.Settings
	// Billing is the provider-wide billing choices: the currency answered
	// and the clock that says which day is today.
	Billing billing.Settings
	// DefaultRegion is the primary region when Fly sends none.
	DefaultRegion string
	// RequestTimeout bounds the work for one request.
	RequestTimeout time.Duration
	// MaxInFlight bounds requests worked on at once; more wait up to a
	// second for a slot, then get 503.
	MaxInFlight int
	// Quotas bound each organization's extensions and machines, unless its
	// Organization's spec.quota says otherwise; zero is no bound.
	Quotas Quotas
	// Events configures machine events: how they are authenticated and
	// how often one extension's events may ask for a look.
	Events EventSettings
	// Browser serves the browser-facing routes under the same base path:
	// SSO, the OAuth callback and the dashboard. Nil serves none.
	Browser BrowserRoutes
	// Finalizers are set on the Extensions the gateway creates: those the
	// controllers that will run add anyway. Set at create, they cost no
	// write of their own and no race between the two controllers adding
	// theirs (Extensions from kubectl or GitOps get them from the
	// controllers as before).
	Finalizers []string
	// WarmUp, when set, runs before the gateway listens: the manager fills
	// the caches the handlers read, so the first requests after a start do
	// not each wait for an informer to sync. Nil listens at once.
	WarmUp func(context.Context) error
}

// NonceLedger claims request nonces across replicas (replay.Ledger).
type NonceLedger interface {
	// Claim records nonce as used until until and reports whether it was
	// unused; an error means the ledger could not tell.
	Claim(ctx context.Context, nonce string, until time.Time) (fresh bool, err error)
}

// BrowserRoutes registers browser-facing routes (the dashboard package).
type BrowserRoutes interface {
	Register(mux *http.ServeMux)
}

// Server is the gateway. It runs as a manager Runnable on every replica.
type Server struct {
	cfg    Config
	client client.Client // cached reads, writes to the API server
	live   client.Reader // uncached reads, for read-after-write
	scheme *runtime.Scheme
	log    logr.Logger
	http   *http.Server
	// recorder records machine events on Extensions; nil records nothing.
	recorder recorder.EventRecorder
	// hints rate-limits what machine events ask of the controller.
	hints *hintLimiter
	// writes makes a GET right after this replica's own write read it.
	writes recentWrites
}

// WithRecorder makes the gateway record Fly's machine events as
// Kubernetes Events on their Extensions.
func (s *Server) WithRecorder(r recorder.EventRecorder) *Server {
	s.recorder = r
	return s
}

// New builds the gateway.
func New(cfg Config, c client.Client, live client.Reader, scheme *runtime.Scheme, log logr.Logger) (*Server, error) {
	if cfg.Verifier == nil {
		return nil, errors.New("gateway: a signature verifier is required")
	}
	if !strings.HasPrefix(cfg.ExternalURL, "http://") && !strings.HasPrefix(cfg.ExternalURL, "https://") {
		return nil, fmt.Errorf("gateway: external URL %q must start with http:// or https://", cfg.ExternalURL)
	}
	cfg.ExternalURL = strings.TrimSuffix(cfg.ExternalURL, "/")
	if cfg.BasePath == "" {
		cfg.BasePath = "/flyio"
	}
	cfg.BasePath = "/" + strings.Trim(cfg.BasePath, "/")
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 64 << 10
	}
	if cfg.DefaultRegion == "" {
		cfg.DefaultRegion = "iad"
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = 20 * time.Second
	}
	if cfg.Domain.ClaimsNamespace == "" {
		cfg.Domain.ClaimsNamespace = "default"
	}
	if cfg.MaxInFlight <= 0 {
		cfg.MaxInFlight = 256
	}
	switch cfg.Events.Auth {
	case "":
		cfg.Events.Auth = EventsAuthNone
	case EventsAuthNone, EventsAuthHMAC:
	case EventsAuthToken:
		if len(cfg.Events.Token) == 0 {
			return nil, errors.New("gateway: machine events with token authentication need a token")
		}
	default:
		return nil, fmt.Errorf("gateway: machine event authentication %q is not none, token or hmac", cfg.Events.Auth)
	}
	if cfg.Events.MinInterval <= 0 {
		cfg.Events.MinInterval = time.Second
	}
	s := &Server{cfg: cfg, client: c, live: live, scheme: scheme, log: log}
	s.hints = &hintLimiter{interval: cfg.Events.MinInterval, poke: s.pokeExtension}
	if cfg.Verifier.Report == nil {
		cfg.Verifier.Report = s.reportWaived
	}
	s.http = &http.Server{
		Addr:              cfg.Addr,
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      cfg.RequestTimeout + 10*time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
	return s, nil
}

// Handler routes the Fly-facing API.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	b := s.cfg.BasePath
	mux.HandleFunc("POST "+b+"/extensions", s.handleProvision)
	mux.HandleFunc("GET "+b+"/extensions/{id}", s.handleGet)
	mux.HandleFunc("PATCH "+b+"/extensions/{id}", s.handleUpdate)
	mux.HandleFunc("DELETE "+b+"/extensions/{id}", s.handleDelete)
	mux.HandleFunc("POST "+b+"/extensions/events", s.handleEvents)
	mux.HandleFunc("GET "+b+"/billing", s.handleBilling)
	if s.cfg.Browser != nil {
		s.cfg.Browser.Register(mux)
	}
	mux.HandleFunc(b+"/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "not_found", "There is no such endpoint.")
	})
	return limitInFlight(s.cfg.MaxInFlight, time.Second, s.recoverer(mux))
}

// recoverer turns a panic into a JSON 500 rather than a dropped connection.
func (s *Server) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				s.log.Error(fmt.Errorf("panic: %v", v), "Gateway handler panicked", "method", r.Method, "path", r.URL.Path)
				writeError(w, http.StatusInternalServerError, "internal", "The provider failed to handle the request.")
			}
		}()
		ctx, cancel := context.WithTimeout(r.Context(), s.cfg.RequestTimeout)
		defer cancel()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// Start serves until ctx ends, then drains in-flight requests.
func (s *Server) Start(ctx context.Context) error {
	if s.cfg.WarmUp != nil {
		if err := s.cfg.WarmUp(ctx); err != nil {
			return fmt.Errorf("gateway warm-up: %w", err)
		}
	}
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("gateway listen on %s: %w", s.cfg.Addr, err)
	}
	s.log.Info("Gateway listening", "addr", ln.Addr().String(), "base", s.cfg.ExternalURL+s.cfg.BasePath)
	s.watchReportOnly(ctx)
	s.hints.ctx = ctx
	errc := make(chan error, 1)
	go func() { errc <- s.http.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	return s.http.Shutdown(shutdownCtx)
}

// NeedLeaderElection is false: every replica serves Fly.
func (s *Server) NeedLeaderElection() bool { return false }
