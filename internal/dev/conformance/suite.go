package conformance

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Config says which provider to check and how.
type Config struct {
	// BaseURL is the provider's base URL, e.g. https://logjam.io/flyio;
	// the page's paths (/extensions, /extensions/{id}, …/sso) go under it.
	BaseURL string
	// Secret is the shared provisioning secret Fly signs requests with.
	Secret []byte
	// HTTP sends the requests (default: a client with a 30 s timeout).
	HTTP *http.Client
	// Timeout bounds each wait: for a resource to be ready, for a deletion
	// to finish, for a webhook (default 4 minutes, as long as flyctl waits).
	Timeout time.Duration
	// PollInterval is how often GET is polled while waiting (default 2 s,
	// as flyctl does).
	PollInterval time.Duration
	// Plan is sent as the request's plan when set; else the provider's
	// default plan is used.
	Plan string
	// Region is the primary region (default iad); ReadRegion the region
	// the PATCH check adds as a read replica (default ord).
	Region, ReadRegion string
	// WebhookListen is the address the suite's webhook sink listens on;
	// the provider must be set to send its webhooks there. Empty skips
	// the webhook check.
	WebhookListen string
	// WebhookSecret verifies the sink's webhooks.
	WebhookSecret []byte
	// SkipSSO skips the SSO check, for a provider without a dashboard.
	SkipSSO bool
}

// Suite runs the checks against one provider.
type Suite struct {
	cfg  Config
	run  string // unique per run: every id and name contains it
	seq  int
	made []string // ids of every resource the suite may have created
	sink *sink

	// fixture is the resource provision.create made, which later checks
	// use; empty when it could not be made.
	fixture      string
	fixtureBody  map[string]any
	fixtureFirst *answer
	fixtureOrg   string
	regions      []string
	deleteFailed bool // delete.accepted saw no 2xx
	fixtureGone  bool // delete.finishes saw it gone
	billing      bool // the provider has a billing endpoint // the fixture's read_regions as last set
}

// check is one row: a stable id, what it checks, and how.
type check struct {
	id, name string
	run      func(ctx context.Context, s *Suite) Result
}

// New makes a suite with cfg's defaults filled in.
func New(cfg Config) (*Suite, error) {
	if cfg.BaseURL == "" {
		return nil, errors.New("conformance: no base URL")
	}
	if !strings.HasPrefix(cfg.BaseURL, "http://") && !strings.HasPrefix(cfg.BaseURL, "https://") {
		return nil, errors.New("conformance: the base URL must start with http:// or https://")
	}
	if len(cfg.Secret) == 0 {
		return nil, errors.New("conformance: no shared secret")
	}
	if cfg.WebhookListen != "" && len(cfg.WebhookSecret) == 0 {
		return nil, errors.New("conformance: a webhook sink needs the webhook secret to verify what it receives")
	}
	cfg.BaseURL = strings.TrimSuffix(cfg.BaseURL, "/")
	if cfg.HTTP == nil {
		cfg.HTTP = &http.Client{Timeout: 30 * time.Second}
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 4 * time.Minute
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = 2 * time.Second
	}
	if cfg.Region == "" {
		cfg.Region = "iad"
	}
	if cfg.ReadRegion == "" {
		cfg.ReadRegion = "ord"
	}
	run := randomHex(3)
	return &Suite{cfg: cfg, run: run, fixtureOrg: "conf-org-" + run}, nil
}

// checks is the suite in the order it runs: the fixture first, the
// refusals while it exists, its deletion last.
func checks() []check {
	var all []check
	all = append(all, lifecycleChecks()...)
	all = append(all, signingChecks()...)
	all = append(all, billingChecks()...)
	all = append(all, ssoChecks()...)
	all = append(all, webhookChecks()...)
	all = append(all, deletionChecks()...)
	return all
}

// Run runs every check and deletes what they made.
func (s *Suite) Run(ctx context.Context) (Report, error) {
	if s.cfg.WebhookListen != "" {
		sk, err := startSink(s.cfg.WebhookListen)
		if err != nil {
			return Report{}, err
		}
		s.sink = sk
		defer sk.close()
	}
	var rep Report
	for _, c := range checks() {
		res := c.run(ctx, s)
		res.ID, res.Name = c.id, c.name
		rep.Results = append(rep.Results, res)
		if ctx.Err() != nil {
			break
		}
	}
	cleanup := s.cleanup(context.WithoutCancel(ctx))
	cleanup.ID, cleanup.Name = "cleanup", "everything the suite made is deleted"
	rep.Results = append(rep.Results, cleanup)
	return rep, ctx.Err()
}

// newID is a fresh resource id (and the matching name) for this run.
func (s *Suite) newID() (id, name string) {
	s.seq++
	id = "conf-" + s.run + "-" + strconv.Itoa(s.seq)
	s.made = append(s.made, id)
	return id, id + "-db"
}

// provisionBody is a provisioning request with every field the page
// lists, as Fly sends it.
func (s *Suite) provisionBody(id, name string) map[string]any {
	body := map[string]any{
		"name":              name,
		"id":                id,
		"organization_id":   s.fixtureOrg,
		"organization_name": "Conformance " + s.run,
		"user_email":        "u" + s.run + "@customer.fly.io",
		"user_id":           "conf-user-" + s.run,
		"user_role":         "admin",
		"primary_region":    s.cfg.Region,
		"read_regions":      []any{},
		"ip_address":        "fdaa:0:c0f:0:1::" + strconv.Itoa(s.seq),
	}
	if s.cfg.Plan != "" {
		body["plan"] = s.cfg.Plan
	}
	return body
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
