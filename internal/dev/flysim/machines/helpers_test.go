package machines

import (
	"context"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	fly "github.com/superfly/fly-go"
	"github.com/superfly/fly-go/flaps"
	"github.com/superfly/fly-go/tokens"

	"github.com/jetway-dev/jetway/internal/dev/flysim/internal/flysimtest"
)

const (
	testToken = flysimtest.Token
	testOrg   = flysimtest.Org
)

type fakeClock = flysimtest.Clock

// env is a Machines API on a test server, with a patient fly-go client.
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
	return flysimtest.PatientClient(e.t, e.ctx, e.srv.URL, toks, &e.waited)
}

// impatientClient is a fly-go client that sees every 429, with a log of
// the responses it got.
func (e *env) impatientClient() (*flaps.Client, *flysimtest.ResponseLog) {
	e.t.Helper()
	return flysimtest.ImpatientClient(e.t, e.ctx, e.srv.URL)
}

func (e *env) fly() flysimtest.Fly { return flysimtest.Fly{T: e.t, Ctx: e.ctx, C: e.c} }

func (e *env) createApp(name string) *flaps.App { e.t.Helper(); return e.fly().CreateApp(name) }

func launchInput(region string, meta map[string]string) fly.LaunchMachineInput {
	return flysimtest.LaunchInput(region, meta)
}

func (e *env) launch(app string, in fly.LaunchMachineInput) *fly.Machine {
	e.t.Helper()
	return e.fly().Launch(app, in)
}

// started launches a machine and waits until it is started.
func (e *env) started(app string) *fly.Machine { e.t.Helper(); return e.fly().Started(app) }

func (e *env) wait(app string, m *fly.Machine, state string) {
	e.t.Helper()
	e.fly().Wait(app, m, state)
}

func (e *env) get(app, id string) *fly.Machine { e.t.Helper(); return e.fly().Get(app, id) }

func httpStatus(err error) int { return flysimtest.HTTPStatus(err) }

func wantErr(t *testing.T, err error, code int, msg string) {
	t.Helper()
	flysimtest.WantErr(t, err, code, msg)
}

// rawStatus makes one request with the test token and returns its status.
func rawStatus(t *testing.T, e *env, method, path, body string) int {
	t.Helper()
	code, _ := rawDo(t, e, method, path, body, testToken)
	return code
}

func rawDo(t *testing.T, e *env, method, path, body, token string) (int, []byte) {
	t.Helper()
	return flysimtest.RawDo(t, e.ctx, e.srv.URL, method, path, body, token)
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	flysimtest.Eventually(t, what, cond)
}

func newFakeClock(t time.Time) *fakeClock { return flysimtest.NewClock(t) }
