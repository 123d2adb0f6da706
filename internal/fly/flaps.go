package fly

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"time"

	fly "github.com/superfly/fly-go"
	"github.com/superfly/fly-go/flaps"
	"github.com/superfly/fly-go/tokens"
)

// Options configure the Machines API client.
type Options struct {
	// BaseURL of the Machines API, e.g. https://api.machines.dev.
	BaseURL string
	// Token is a Fly API token (never logged).
	Token string
	// OrgSlug is the provider's Fly organization, where apps are created.
	OrgSlug string
	// Timeout bounds each call; default 30 s.
	Timeout time.Duration
	// Transport is the underlying transport; default http.DefaultTransport.
	Transport http.RoundTripper
	// UserAgent identifies Jetway to Fly.
	UserAgent string
}

// flapsClient is the Client over fly-go's flaps client.
type flapsClient struct {
	flaps   *flaps.Client
	org     string
	timeout time.Duration
}

// New returns a Client for the Machines API at opts.BaseURL.
func New(ctx context.Context, opts Options) (Client, error) {
	if opts.Token == "" {
		return nil, errors.New("a Fly API token is required")
	}
	if opts.OrgSlug == "" {
		return nil, errors.New("a Fly organization slug is required")
	}
	base, err := url.Parse(opts.BaseURL)
	if err != nil || base.Scheme == "" || base.Host == "" {
		return nil, fmt.Errorf("invalid Machines API URL %q", opts.BaseURL)
	}
	next := opts.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	ua := opts.UserAgent
	if ua == "" {
		ua = "jetway"
	}
	fc, err := flaps.NewWithOptions(ctx, flaps.NewClientOpts{
		UserAgent: ua,
		Tokens:    tokens.Parse(opts.Token),
		Transport: &instrumentedTransport{base: base, next: next, limits: newLimits()},
	})
	if err != nil {
		return nil, fmt.Errorf("create Machines API client: %w", err)
	}
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	return &flapsClient{flaps: fc, org: opts.OrgSlug, timeout: timeout}, nil
}

// call runs fn with a timeout (which also bounds the wait for a rate-limit
// token in the transport) and classifies its error. Our token buckets and
// Fly's run on different clocks, so a request can reach Fly a hair before
// Fly refills: a 429 with a short Retry-After is waited out here, a couple
// of times, rather than failing the whole pass.
func (c *flapsClient) call(ctx context.Context, fn func(ctx context.Context) error) error {
	for attempt := 0; ; attempt++ {
		err := c.callOnce(ctx, fn)
		wait := RetryAfter(err)
		if !errors.Is(err, ErrRateLimited) || attempt >= maxRateLimitRetries || wait > maxRateLimitWait {
			return err
		}
		if wait <= 0 {
			wait = time.Second
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
	}
}

// A longer Retry-After is the controller's to wait out, off the worker.
const (
	maxRateLimitRetries = 2
	maxRateLimitWait    = 5 * time.Second
)

func (c *flapsClient) callOnce(ctx context.Context, fn func(ctx context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	ctx, note := withRetryAfterNote(ctx)
	err := classify(fn(ctx))
	var ae *APIError
	if errors.As(err, &ae) && errors.Is(ae.Kind, ErrRateLimited) {
		ae.RetryAfter = note.d
	}
	return err
}

func (c *flapsClient) CreateApp(ctx context.Context, name, network string) (*App, error) {
	var app *App
	err := c.call(ctx, func(ctx context.Context) (err error) {
		app, err = c.flaps.CreateApp(ctx, flaps.CreateAppRequest{Name: name, Org: c.org, Network: network})
		return err
	})
	return app, err
}

func (c *flapsClient) GetApp(ctx context.Context, name string) (*App, error) {
	var app *App
	err := c.call(ctx, func(ctx context.Context) (err error) {
		app, err = c.flaps.GetApp(ctx, name)
		return err
	})
	return app, err
}

func (c *flapsClient) ListApps(ctx context.Context) ([]App, error) {
	var apps []App
	err := c.call(ctx, func(ctx context.Context) (err error) {
		apps, err = c.flaps.ListApps(ctx, flaps.ListAppsRequest{OrgSlug: c.org})
		return err
	})
	return apps, err
}

func (c *flapsClient) DeleteApp(ctx context.Context, name string) error {
	err := c.call(ctx, func(ctx context.Context) error {
		return c.flaps.DeleteApp(ctx, name)
	})
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}

func (c *flapsClient) ListMachines(ctx context.Context, app string, match map[string]string) ([]*Machine, error) {
	// fly-go appends its "state" argument to the URL as the raw query, which
	// is how the documented metadata filter gets through.
	q := url.Values{}
	keys := make([]string, 0, len(match))
	for k := range match {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		q.Set("metadata."+k, match[k])
	}
	var out []*Machine
	err := c.call(ctx, func(ctx context.Context) (err error) {
		out, err = c.flaps.List(ctx, app, q.Encode())
		return err
	})
	if err != nil {
		return nil, err
	}
	// Filter again: a Fly that ignored the filter must not make us adopt
	// another extension's machines.
	live := out[:0]
	for _, m := range out {
		if !m.IsActive() || !metadataMatches(m, match) {
			continue
		}
		live = append(live, m)
	}
	return live, nil
}

func metadataMatches(m *Machine, match map[string]string) bool {
	if m.Config == nil {
		return len(match) == 0
	}
	for k, v := range match {
		if m.Config.Metadata[k] != v {
			return false
		}
	}
	return true
}

func (c *flapsClient) CreateMachine(ctx context.Context, app string, in fly.LaunchMachineInput) (*Machine, error) {
	var m *Machine
	err := c.call(ctx, func(ctx context.Context) (err error) {
		m, err = c.flaps.Launch(ctx, app, in)
		return err
	})
	return m, err
}

func (c *flapsClient) UpdateMachine(ctx context.Context, app string, in fly.LaunchMachineInput) (*Machine, error) {
	nonce, err := c.acquireLease(ctx, app, in.ID)
	if err != nil {
		return nil, fmt.Errorf("lease machine %s: %w", in.ID, err)
	}
	defer c.releaseLease(ctx, app, in.ID, nonce)
	var m *Machine
	err = c.call(ctx, func(ctx context.Context) (err error) {
		m, err = c.flaps.Update(ctx, app, in, nonce)
		return err
	})
	return m, err
}

// leaseTTL is long enough for one update and short enough that a crashed
// manager does not block the machine for long.
const leaseTTL = 30

func (c *flapsClient) acquireLease(ctx context.Context, app, id string) (string, error) {
	var lease *fly.MachineLease
	ttl := leaseTTL
	err := c.call(ctx, func(ctx context.Context) (err error) {
		// fly-go retries a held lease for up to a minute; our timeout bounds it.
		lease, err = c.flaps.AcquireLease(ctx, app, id, &ttl)
		return err
	})
	if err != nil {
		return "", err
	}
	if lease == nil || lease.Data == nil || lease.Data.Nonce == "" {
		return "", &APIError{Kind: ErrUnavailable, Message: "Fly granted a lease without a nonce"}
	}
	return lease.Data.Nonce, nil
}

// releaseLease gives the lease back; if it fails the lease expires by itself
// after leaseTTL, so the error is not worth failing the pass for.
func (c *flapsClient) releaseLease(ctx context.Context, app, id, nonce string) {
	_ = c.call(context.WithoutCancel(ctx), func(ctx context.Context) error {
		return c.flaps.ReleaseLease(ctx, app, id, nonce)
	})
}

func (c *flapsClient) StartMachine(ctx context.Context, app, id string) error {
	return c.call(ctx, func(ctx context.Context) error {
		_, err := c.flaps.Start(ctx, app, id, "")
		return err
	})
}

func (c *flapsClient) DestroyMachine(ctx context.Context, app, id string) error {
	err := c.call(ctx, func(ctx context.Context) error {
		return c.flaps.Destroy(ctx, app, fly.RemoveMachineInput{ID: id, Kill: true}, "")
	})
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}

func (c *flapsClient) ListIPs(ctx context.Context, app string) ([]IPAssignment, error) {
	var res *flaps.ListIPAssignmentsResponse
	err := c.call(ctx, func(ctx context.Context) (err error) {
		res, err = c.flaps.GetIPAssignments(ctx, app)
		return err
	})
	if err != nil || res == nil {
		return nil, err
	}
	return res.IPs, nil
}

func (c *flapsClient) AssignIP(ctx context.Context, app string, req flaps.AssignIPRequest) (*IPAssignment, error) {
	if req.Organization == "" {
		req.Organization = c.org
	}
	var ip *IPAssignment
	err := c.call(ctx, func(ctx context.Context) (err error) {
		ip, err = c.flaps.AssignIP(ctx, app, req)
		return err
	})
	return ip, err
}

func (c *flapsClient) ReleaseIP(ctx context.Context, app, ip string) error {
	err := c.call(ctx, func(ctx context.Context) error {
		return c.flaps.DeleteIPAssignment(ctx, app, ip)
	})
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}

func (c *flapsClient) SetSecrets(ctx context.Context, app string, values map[string]string) error {
	in := make(map[string]*string, len(values))
	for k, v := range values {
		in[k] = &v
	}
	return c.call(ctx, func(ctx context.Context) error {
		_, err := c.flaps.UpdateAppSecrets(ctx, app, in)
		return err
	})
}

// UnsetSecrets sends nil values, which Fly's batch update deletes.
func (c *flapsClient) UnsetSecrets(ctx context.Context, app string, names ...string) error {
	if len(names) == 0 {
		return nil
	}
	in := make(map[string]*string, len(names))
	for _, n := range names {
		in[n] = nil
	}
	return c.call(ctx, func(ctx context.Context) error {
		_, err := c.flaps.UpdateAppSecrets(ctx, app, in)
		return err
	})
}

func (c *flapsClient) Secrets(ctx context.Context, app string) ([]Secret, error) {
	var secrets []fly.AppSecret
	err := c.call(ctx, func(ctx context.Context) (err error) {
		secrets, err = c.flaps.ListAppSecrets(ctx, app, nil, false)
		return err
	})
	out := make([]Secret, 0, len(secrets))
	for _, s := range secrets {
		sec := Secret{Name: s.Name}
		if s.CreatedAt != nil {
			sec.CreatedAt, _ = time.Parse(time.RFC3339, *s.CreatedAt)
		}
		out = append(out, sec)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, err
}
