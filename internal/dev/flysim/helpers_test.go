package flysim

import (
	"context"
	"io"
	"net/http"
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

func TestMain(m *testing.M) { flysimtest.Main(m) }

// env is the whole stand-in on a test server, with a patient fly-go
// client for its Machines API.
type env struct {
	t      *testing.T
	sim    *Server
	srv    *httptest.Server
	c      *flaps.Client
	ctx    context.Context
	waited atomic.Int32 // 429s the patient client waited out
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
	e.c = flysimtest.PatientClient(t, ctx, srv.URL, tokens.Parse(opts.Token), &e.waited)
	return e
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

func (e *env) started(app string) *fly.Machine { e.t.Helper(); return e.fly().Started(app) }

func (e *env) wait(app string, m *fly.Machine, state string) {
	e.t.Helper()
	e.fly().Wait(app, m, state)
}

func (e *env) get(app, id string) *fly.Machine { e.t.Helper(); return e.fly().Get(app, id) }

func rawDo(t *testing.T, e *env, method, path, body, token string) (int, []byte) {
	t.Helper()
	return flysimtest.RawDo(t, e.ctx, e.srv.URL, method, path, body, token)
}

func jsonUnmarshalStrict(raw []byte, v any) error { return flysimtest.UnmarshalStrict(raw, v) }

func readAll(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// The machine-events receiver and its checks, by the names the tests use.
type gotEvent = flysimtest.Event

func newEventReceiver(t *testing.T, answer func(n int, r *http.Request) int) *flysimtest.EventReceiver {
	t.Helper()
	return flysimtest.NewEventReceiver(t, testEventsSecret, answer)
}

var (
	checkEvent = flysimtest.CheckEvent
	hasAll     = flysimtest.HasAll
	forMachine = flysimtest.ForMachine
	statuses   = flysimtest.Statuses
)
