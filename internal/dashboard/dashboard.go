// Package dashboard is the provider's customer-facing web UI and the
// single sign-on that leads into it. `flyctl ext <provider> dashboard` opens
// the SSO URL; the customer signs in at Fly (OAuth, with state and PKCE),
// Jetway admits members of the extension's organization only, records them
// in the Organization, and shows server-rendered pages read from the
// Extension's status and from the organization's billing books (the same
// figures GET /billing answers Fly). Sessions live in sealed cookies, so every replica can
// serve every request.
package dashboard

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/go-logr/logr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
	"github.com/jetway-dev/jetway/internal/billing"
	"github.com/jetway-dev/jetway/internal/domain"
)

// fieldOwner is the dashboard's field manager for the members it records.
const fieldOwner = client.FieldOwner("jetway-dashboard")

// Config configures the dashboard and its sign-in.
type Config struct {
	// ExternalURL is the origin browsers reach the provider at (scheme and
	// host). Its scheme decides whether cookies are Secure.
	ExternalURL string
	// BasePath prefixes every route, as for the gateway; default /flyio.
	BasePath string
	// ClientID and ClientSecret are the provider's OAuth application at
	// Fly. An empty ClientID turns sign-in off: the SSO URLs say so.
	ClientID     string
	ClientSecret string
	// FlyOAuthURL is the origin of Fly's OAuth server; default
	// https://api.fly.io.
	FlyOAuthURL string
	// SessionSecrets seal the cookies; the first seals, all open
	// (rotation). Each must be at least MinSecretBytes long.
	SessionSecrets [][]byte
	// SessionTTL bounds a session; it never outlives Fly's grant either.
	// Default 2h, Fly's access token lifetime.
	SessionTTL time.Duration
	// StateTTL bounds a sign-in from redirect to callback. Default 10m.
	StateTTL time.Duration
	// FlyTimeout bounds each call to Fly's OAuth server. Default 10s.
	FlyTimeout time.Duration
	// Domain is the provider-wide naming the controllers use, to show the
	// app and host name before the controllers have written them.
	Domain domain.Settings
	// Billing is the currency and clock the usage pages show figures in:
	// the same value the billing API answers with, so both agree.
	Billing billing.Settings
	// HTTPClient calls Fly; default a client with FlyTimeout.
	HTTPClient *http.Client
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// FindExtension looks an Extension up by Fly's id; nil, nil when none.
type FindExtension func(ctx context.Context, id string) (*jetwayv1.Extension, error)

// Handler serves the SSO endpoints and the dashboard pages.
type Handler struct {
	cfg           Config
	client        client.Client // cached reads (with the org index), writes
	live          client.Reader // uncached: secrets, events, organizations
	findExtension FindExtension
	log           logr.Logger

	sealer  *sealer
	cookies cookieJar
	oauth   *flyOAuth
	used    *usedStates
	origin  string // ExternalURL's scheme://host, for the Origin check
}

// New builds the dashboard.
func New(cfg Config, c client.Client, live client.Reader, find FindExtension, log logr.Logger) (*Handler, error) {
	u, err := url.Parse(cfg.ExternalURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("dashboard: external URL %q must be an http(s) origin", cfg.ExternalURL)
	}
	if find == nil {
		return nil, errors.New("dashboard: an extension finder is required")
	}
	cfg.BasePath = "/" + strings.Trim(orDefault(cfg.BasePath, "/flyio"), "/")
	cfg.FlyOAuthURL = orDefault(cfg.FlyOAuthURL, "https://api.fly.io")
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = 2 * time.Hour
	}
	if cfg.StateTTL <= 0 {
		cfg.StateTTL = 10 * time.Minute
	}
	if cfg.FlyTimeout <= 0 {
		cfg.FlyTimeout = 10 * time.Second
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: cfg.FlyTimeout}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s, err := newSealer(cfg.SessionSecrets)
	if cfg.ClientID != "" {
		if err != nil {
			return nil, fmt.Errorf("dashboard: %w", err)
		}
		if cfg.ClientSecret == "" {
			return nil, errors.New("dashboard: an OAuth client secret is required with a client id")
		}
	}
	origin := u.Scheme + "://" + u.Host
	h := &Handler{
		cfg: cfg, client: c, live: live, findExtension: find, log: log,
		sealer: s, cookies: newCookieJar(u.Scheme == "https"), used: newUsedStates(), origin: origin,
	}
	h.oauth = newFlyOAuth(cfg.FlyOAuthURL, cfg.ClientID, cfg.ClientSecret, origin+cfg.BasePath+"/callback", cfg.HTTPClient)
	return h, nil
}

// Register adds the dashboard's routes to mux.
func (h *Handler) Register(mux *http.ServeMux) {
	b := h.cfg.BasePath
	mux.HandleFunc("GET "+b+"/extensions/{id}/sso", h.signInRequired(h.handleExtensionSSO))
	mux.HandleFunc("GET "+b+"/organizations/{org}/sso", h.signInRequired(h.handleOrganizationSSO))
	mux.HandleFunc("GET "+b+"/callback", h.signInRequired(h.handleCallback))
	mux.HandleFunc("GET "+b+"/dashboard/organizations/{org}", h.signInRequired(h.handleOrganizationPage))
	mux.HandleFunc("GET "+b+"/dashboard/organizations/{org}/usage", h.signInRequired(h.handleUsagePage))
	mux.HandleFunc("GET "+b+"/dashboard/organizations/{org}/usage/{id}", h.signInRequired(h.handleExtensionUsagePage))
	mux.HandleFunc("GET "+b+"/dashboard/extensions/{id}", h.signInRequired(h.handleExtensionPage))
	mux.HandleFunc("POST "+b+"/dashboard/extensions/{id}/reveal", h.signInRequired(h.handleReveal))
	mux.HandleFunc("POST "+b+"/dashboard/logout", h.signInRequired(h.handleLogout))
	mux.HandleFunc(b+"/dashboard/", func(w http.ResponseWriter, r *http.Request) {
		h.page(w, r, http.StatusNotFound, notFoundPage())
	})
}

// signInRequired answers 503 on every dashboard route while sign-in is not
// configured: without it nobody could be admitted.
func (h *Handler) signInRequired(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if h.cfg.ClientID == "" || h.sealer == nil {
			h.page(w, r, http.StatusServiceUnavailable, errorPage("Sign-in is not set up",
				"This provider has not configured sign-in through Fly yet.", ""))
			return
		}
		next(w, r)
	}
}

// ssoPath is where a sign-in for to starts.
func (h *Handler) ssoPath(to target) string {
	if to.Kind == targetOrganization {
		return h.cfg.BasePath + "/organizations/" + url.PathEscape(to.ID) + "/sso"
	}
	return h.cfg.BasePath + "/extensions/" + url.PathEscape(to.ID) + "/sso"
}

// pagePath is the dashboard page of to.
func (h *Handler) pagePath(to target) string {
	if to.Kind == targetOrganization {
		return h.cfg.BasePath + "/dashboard/organizations/" + url.PathEscape(to.ID)
	}
	return h.cfg.BasePath + "/dashboard/extensions/" + url.PathEscape(to.ID)
}

func (h *Handler) now() time.Time { return h.cfg.Now() }

// usagePath is an organization's usage page; with an extension id, that
// extension's drill-down. Both sit under the organization, whose
// membership is what admits a user to them.
func (h *Handler) usagePath(orgID, extID string) string {
	p := h.pagePath(target{Kind: targetOrganization, ID: orgID}) + "/usage"
	if extID != "" {
		p += "/" + url.PathEscape(extID)
	}
	return p
}

// failure logs an unexpected error and shows a page that leaks nothing.
func (h *Handler) failure(w http.ResponseWriter, r *http.Request, err error) {
	h.log.Error(err, "Dashboard request failed", "method", r.Method, "path", r.URL.Path)
	h.page(w, r, http.StatusServiceUnavailable, errorPage("Something went wrong",
		"The provider could not complete this request right now. Try again in a moment.", ""))
}

func orDefault(v, d string) string {
	if v == "" {
		return d
	}
	return v
}
