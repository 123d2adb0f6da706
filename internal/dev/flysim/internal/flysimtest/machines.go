package flysimtest

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	fly "github.com/superfly/fly-go"
	"github.com/superfly/fly-go/flaps"
)

// Fly is a fly-go client with the context its calls run in, and the
// machine steps most tests start with. Each step fails the test on error.
type Fly struct {
	T   testing.TB
	Ctx context.Context
	C   *flaps.Client
}

// CreateApp creates the app in Org.
func (f Fly) CreateApp(name string) *flaps.App {
	f.T.Helper()
	a, err := f.C.CreateApp(f.Ctx, flaps.CreateAppRequest{Name: name, Org: Org})
	if err != nil {
		f.T.Fatalf("CreateApp(%s): %v", name, err)
	}
	return a
}

// LaunchInput is a machine in region with the given metadata.
func LaunchInput(region string, meta map[string]string) fly.LaunchMachineInput {
	return fly.LaunchMachineInput{
		Region: region,
		Config: &fly.MachineConfig{Image: "registry.fly.io/jetway-ext:v1", Metadata: meta},
	}
}

// Launch creates a machine.
func (f Fly) Launch(app string, in fly.LaunchMachineInput) *fly.Machine {
	f.T.Helper()
	m, err := f.C.Launch(f.Ctx, app, in)
	if err != nil {
		f.T.Fatalf("Launch: %v", err)
	}
	return m
}

// Started launches a machine and waits until it is started.
func (f Fly) Started(app string) *fly.Machine {
	f.T.Helper()
	m := f.Launch(app, LaunchInput("ams", nil))
	f.Wait(app, m, "started")
	return f.Get(app, m.ID)
}

// Wait waits up to 10s for m to reach state.
func (f Fly) Wait(app string, m *fly.Machine, state string) {
	f.T.Helper()
	if err := f.C.Wait(f.Ctx, app, m, state, 10*time.Second); err != nil {
		f.T.Fatalf("Wait(%s, %s): %v", m.ID, state, err)
	}
}

// Get reads a machine.
func (f Fly) Get(app, id string) *fly.Machine {
	f.T.Helper()
	m, err := f.C.Get(f.Ctx, app, id)
	if err != nil {
		f.T.Fatalf("Get(%s): %v", id, err)
	}
	return m
}

// HTTPStatus digs the HTTP status out of a fly-go error; 0 if there is none.
func HTTPStatus(err error) int {
	var fe *flaps.FlapsError
	if errors.As(err, &fe) {
		return fe.ResponseStatusCode
	}
	return 0
}

// WantErr checks an error's HTTP status and, if msg is set, its text.
func WantErr(t testing.TB, err error, code int, msg string) {
	t.Helper()
	if err == nil {
		t.Fatalf("want HTTP %d error, got success", code)
	}
	if got := HTTPStatus(err); got != code {
		t.Fatalf("want HTTP %d, got %d (%v)", code, got, err)
	}
	if msg != "" && !strings.Contains(err.Error(), msg) {
		t.Fatalf("want error containing %q, got %q", msg, err.Error())
	}
}
