package flysim

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	fly "github.com/superfly/fly-go"
)

// The check failures over the control API, as a chaos script or a
// developer uses them, and what fly-go then reads on the machine.
func TestCheckFailuresControl(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	e.createApp("app")
	in := launchInput("ams", nil)
	tcp := "tcp"
	in.Config.Services = []fly.MachineService{{Protocol: "tcp", InternalPort: 5432, Checks: []fly.MachineServiceCheck{
		{Type: &tcp, GracePeriod: &fly.Duration{Duration: 100 * time.Millisecond}},
	}}}
	m := e.launch("app", in)
	checkOf := func() *fly.MachineCheckStatus {
		t.Helper()
		var got *fly.MachineCheckStatus
		deadline := time.Now().Add(5 * time.Second)
		for got == nil || got.Status == fly.Critical && strings.Contains(got.Output, "grace period") {
			if time.Now().After(deadline) {
				t.Fatalf("no check past its grace period: %+v", got)
			}
			time.Sleep(20 * time.Millisecond)
			for _, x := range e.sim.Machines("app") {
				if x.ID == m.ID && len(x.Checks) == 1 {
					got = x.Checks[0]
				}
			}
		}
		return got
	}
	if c := checkOf(); c.Name != "servicecheck-00-tcp-5432" || c.Status != fly.Passing {
		t.Fatalf("before any failure: %+v", c)
	}

	path := "/flysim/v1/check-failures"
	if code, _ := rawDo(t, e, "PUT", path, `{"images":["`+in.Config.Image+`"]}`, ""); code != http.StatusUnauthorized {
		t.Fatalf("PUT without a token = %d, want 401", code)
	}
	code, body := rawDo(t, e, "PUT", path, `{"images":["`+in.Config.Image+`"]}`, testToken)
	if want := `{"images":["` + in.Config.Image + `"],"machines":[]}`; code != http.StatusOK || string(body) != want {
		t.Fatalf("PUT = %d %s, want 200 %s", code, body, want)
	}
	if c := checkOf(); c.Status != fly.Critical || !strings.Contains(c.Output, "connection refused") {
		t.Fatalf("with the image failing: %+v", c)
	}
	got, err := e.c.Get(e.ctx, "app", m.ID)
	if err != nil || len(got.Checks) != 1 || got.Checks[0].Status != fly.Critical || got.AllHealthChecks().AllPassing() {
		t.Fatalf("fly-go reads %+v, %v", got, err)
	}

	byMachine := fmt.Sprintf(`{"machines":[{"app":"app","id":"%s"}]}`, m.ID)
	code, body = rawDo(t, e, "PUT", path, byMachine, testToken)
	if want := fmt.Sprintf(`{"images":[],"machines":[{"app":"app","id":"%s"}]}`, m.ID); code != http.StatusOK || string(body) != want {
		t.Fatalf("PUT by machine = %d %s, want 200 %s", code, body, want)
	}
	if c := checkOf(); c.Status != fly.Critical {
		t.Fatalf("with the machine failing: %+v", c)
	}
	if f := e.sim.CheckFailures(); len(f.Machines) != 1 || f.Machines[0].ID != m.ID || len(f.Images) != 0 {
		t.Fatalf("CheckFailures = %+v", f)
	}

	for _, tc := range []struct {
		method, body string
		want         int
	}{
		{"PUT", `{"images":["Not An Image"]}`, http.StatusBadRequest},
		{"PUT", `{"machines":[{"app":"app","id":"nope"}]}`, http.StatusNotFound},
		{"PUT", `{"imagez":[]}`, http.StatusBadRequest},
		{"PUT", `{"machines":[{"app":"app","machine_id":"x"}]}`, http.StatusBadRequest},
		{"PUT", ``, http.StatusBadRequest},
		{"POST", `{}`, http.StatusMethodNotAllowed},
	} {
		if code, body := rawDo(t, e, tc.method, path, tc.body, testToken); code != tc.want {
			t.Errorf("%s %s = %d %s, want %d", tc.method, tc.body, code, body, tc.want)
		}
	}
	if code, body := rawDo(t, e, "GET", path, "", testToken); code != http.StatusOK || !strings.Contains(string(body), m.ID) {
		t.Fatalf("refused PUTs changed the failures: GET = %d %s", code, body)
	}

	if code, body := rawDo(t, e, "PUT", path, `{}`, testToken); code != http.StatusOK || string(body) != `{"images":[],"machines":[]}` {
		t.Fatalf("PUT {} = %d %s", code, body)
	}
	if c := checkOf(); c.Status != fly.Passing {
		t.Fatalf("after clearing: %+v", c)
	}
}
