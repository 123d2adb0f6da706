package flysim

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	fly "github.com/superfly/fly-go"
	"github.com/superfly/fly-go/flaps"
	"github.com/superfly/fly-go/tokens"
)

const (
	testToken = "sim-test-token"
	testOrg   = "jetway-test"
)

// rewriteTransport points fly-go at the test server. fly-go only reads its
// base URL from FLY_FLAPS_BASE_URL, and tests must not touch the process
// environment, so requests are redirected here instead.
type rewriteTransport struct {
	target *url.URL
	next   http.RoundTripper
}

func (t rewriteTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.URL.Scheme = t.target.Scheme
	r.URL.Host = t.target.Host
	r.Host = t.target.Host
	return t.next.RoundTrip(r)
}

// patientTransport is the client Fly asks for: on a 429 it waits out
// Retry-After and tries again, as Jetway's own client does. Fly's limits are
// always on in the simulator, so tests that make calls faster than Fly
// allows are slowed down to Fly's pace rather than exempted. Tests about
// the limits themselves use env.impatientClient, which sees every 429.
type patientTransport struct {
	next   http.RoundTripper
	waited *atomic.Int32
}

const maxPatience = 10 // 429s in a row before the caller gets one

func (t patientTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	var body []byte
	if r.Body != nil && r.Body != http.NoBody {
		var err error
		if body, err = io.ReadAll(r.Body); err != nil {
			return nil, err
		}
		_ = r.Body.Close()
	}
	for attempt := 1; ; attempt++ {
		req := r.Clone(r.Context())
		if body != nil {
			req.Body = io.NopCloser(bytes.NewReader(body))
			req.ContentLength = int64(len(body))
		}
		resp, err := t.next.RoundTrip(req)
		if err != nil || resp.StatusCode != http.StatusTooManyRequests || attempt == maxPatience {
			return resp, err
		}
		secs, err := strconv.Atoi(resp.Header.Get("Retry-After"))
		_ = resp.Body.Close()
		if err != nil || secs < 1 {
			return nil, fmt.Errorf("429 with a bad Retry-After %q", resp.Header.Get("Retry-After"))
		}
		t.waited.Add(1)
		select {
		case <-time.After(time.Duration(secs) * time.Second):
		case <-r.Context().Done():
			return nil, r.Context().Err()
		}
	}
}

// responseLog keeps the last response a client got, headers included,
// which fly-go's errors do not carry.
type responseLog struct {
	mu   sync.Mutex
	last *http.Response
	next http.RoundTripper
}

func (l *responseLog) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := l.next.RoundTrip(r)
	if err == nil {
		l.mu.Lock()
		l.last = resp
		l.mu.Unlock()
	}
	return resp, err
}

func (l *responseLog) Last() *http.Response {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.last
}

// fakeClock is a settable clock for lease expiry and timestamps.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type env struct {
	t      *testing.T
	sim    *Server
	srv    *httptest.Server
	c      *flaps.Client
	ctx    context.Context
	waited atomic.Int32 // 429s the patient clients waited out
}

func newEnv(t *testing.T, opts Options) *env {
	t.Helper()
	if opts.Token == "" {
		opts.Token = testToken
	}
	if opts.OrgSlug == "" {
		opts.OrgSlug = testOrg
	}
	if opts.BootTime == 0 {
		opts.BootTime = 40 * time.Millisecond
	}
	sim := New(opts)
	srv := httptest.NewServer(sim)
	t.Cleanup(func() {
		sim.Close() // first, so blocked waits return and srv.Close does not hang
		srv.Close()
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	e := &env{t: t, sim: sim, srv: srv, ctx: ctx}
	e.c = e.client(tokens.Parse(opts.Token))
	t.Cleanup(func() {
		if n := e.waited.Load(); n > 0 {
			t.Logf("waited out %d rate limits", n)
		}
	})
	return e
}

// client builds a real fly-go client with the given tokens (nil: none)
// that waits out 429s.
func (e *env) client(toks *tokens.Tokens) *flaps.Client {
	e.t.Helper()
	return e.newClient(toks, patientTransport{next: e.rewrite(), waited: &e.waited})
}

// impatientClient is a fly-go client that sees every 429, with a log of
// the responses it got.
func (e *env) impatientClient() (*flaps.Client, *responseLog) {
	e.t.Helper()
	log := &responseLog{next: e.rewrite()}
	return e.newClient(tokens.Parse(testToken), log), log
}

func (e *env) rewrite() http.RoundTripper {
	e.t.Helper()
	target, err := url.Parse(e.srv.URL)
	if err != nil {
		e.t.Fatal(err)
	}
	return rewriteTransport{target: target, next: http.DefaultTransport}
}

func (e *env) newClient(toks *tokens.Tokens, transport http.RoundTripper) *flaps.Client {
	e.t.Helper()
	c, err := flaps.NewWithOptions(e.ctx, flaps.NewClientOpts{Tokens: toks, Transport: transport})
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

func (e *env) createApp(name string) *flaps.App {
	e.t.Helper()
	a, err := e.c.CreateApp(e.ctx, flaps.CreateAppRequest{Name: name, Org: testOrg})
	if err != nil {
		e.t.Fatalf("CreateApp(%s): %v", name, err)
	}
	return a
}

func launchInput(region string, meta map[string]string) fly.LaunchMachineInput {
	return fly.LaunchMachineInput{
		Region: region,
		Config: &fly.MachineConfig{Image: "registry.fly.io/jetway-ext:v1", Metadata: meta},
	}
}

func (e *env) launch(app string, in fly.LaunchMachineInput) *fly.Machine {
	e.t.Helper()
	m, err := e.c.Launch(e.ctx, app, in)
	if err != nil {
		e.t.Fatalf("Launch: %v", err)
	}
	return m
}

// started launches a machine and waits until it is started.
func (e *env) started(app string) *fly.Machine {
	e.t.Helper()
	m := e.launch(app, launchInput("ams", nil))
	e.wait(app, m, "started")
	return e.get(app, m.ID)
}

func (e *env) wait(app string, m *fly.Machine, state string) {
	e.t.Helper()
	if err := e.c.Wait(e.ctx, app, m, state, 10*time.Second); err != nil {
		e.t.Fatalf("Wait(%s, %s): %v", m.ID, state, err)
	}
}

func (e *env) get(app, id string) *fly.Machine {
	e.t.Helper()
	m, err := e.c.Get(e.ctx, app, id)
	if err != nil {
		e.t.Fatalf("Get(%s): %v", id, err)
	}
	return m
}

// httpStatus digs the HTTP status out of a fly-go error; 0 if there is none.
func httpStatus(err error) int {
	var fe *flaps.FlapsError
	if errors.As(err, &fe) {
		return fe.ResponseStatusCode
	}
	return 0
}

// wantErr checks an error's HTTP status and, if msg is set, its text.
func wantErr(t *testing.T, err error, code int, msg string) {
	t.Helper()
	if err == nil {
		t.Fatalf("want HTTP %d error, got success", code)
	}
	if got := httpStatus(err); got != code {
		t.Fatalf("want HTTP %d, got %d (%v)", code, got, err)
	}
	if msg != "" && !strings.Contains(err.Error(), msg) {
		t.Fatalf("want error containing %q, got %q", msg, err.Error())
	}
}
