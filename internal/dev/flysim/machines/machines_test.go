package machines

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	fly "github.com/superfly/fly-go"
)

var machineIDRE = regexp.MustCompile(`^[0-9a-f]{14}$`)

func TestLaunchThenWaitStarted(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	e.createApp("app")
	m := e.launch("app", fly.LaunchMachineInput{
		Region: "iad",
		Config: &fly.MachineConfig{Image: "nginx:1.27", Env: map[string]string{"A": "1"}},
	})

	// The create call returns before the machine boots.
	if m.State != "created" {
		t.Fatalf("state = %q, want created", m.State)
	}
	if !machineIDRE.MatchString(m.ID) {
		t.Fatalf("id %q is not 14 hex chars", m.ID)
	}
	if m.Name == "" || m.Region != "iad" || m.InstanceID == "" || m.Version != m.InstanceID ||
		!strings.HasPrefix(m.PrivateIP, "fdaa:") || m.HostStatus != fly.HostStatusOk || m.LeaseNonce != "" {
		t.Fatalf("unexpected machine %+v", m)
	}
	if _, err := time.Parse(time.RFC3339, m.CreatedAt); err != nil {
		t.Fatalf("created_at %q: %v", m.CreatedAt, err)
	}
	if m.Config.Image != "nginx:1.27" || m.Config.Env["A"] != "1" || m.Config.Guest == nil || m.Config.Guest.MemoryMB != 256 {
		t.Fatalf("config not echoed with defaults: %+v", m.Config)
	}
	if m.ImageRef.Repository != "library/nginx" || m.ImageRef.Tag != "1.27" {
		t.Fatalf("image_ref = %+v", m.ImageRef)
	}
	if len(m.Events) != 1 || m.Events[0].Type != "launch" || m.Events[0].Status != "created" || m.Events[0].Source != "user" {
		t.Fatalf("events = %+v", m.Events)
	}
	if ts := m.Events[0].Time(); time.Since(ts) > time.Minute || time.Until(ts) > time.Minute {
		t.Fatalf("event timestamp %d is not milliseconds", m.Events[0].Timestamp)
	}

	e.wait("app", m, "started")
	got := e.get("app", m.ID)
	if got.State != "started" || got.Events[0].Type != "start" || got.Events[0].Status != "started" {
		t.Fatalf("after wait: state %q events %+v", got.State, got.Events)
	}
	if a, _ := e.c.GetApp(e.ctx, "app"); a.Status != "deployed" || a.MachineCount != 1 {
		t.Fatalf("app after launch = %+v", a)
	}
}

func TestLaunchValidation(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	e.createApp("app")
	img := func() *fly.MachineConfig { return &fly.MachineConfig{Image: "nginx"} }
	tests := []struct {
		name string
		app  string
		in   fly.LaunchMachineInput
		code int
		msg  string
	}{
		{"unknown app", "nope", fly.LaunchMachineInput{Region: "ams", Config: img()}, http.StatusNotFound, "app not found"},
		{"no config", "app", fly.LaunchMachineInput{Region: "ams"}, http.StatusBadRequest, "config is required"},
		{"no image", "app", fly.LaunchMachineInput{Region: "ams", Config: &fly.MachineConfig{}}, http.StatusBadRequest, "image"},
		{"bad image", "app", fly.LaunchMachineInput{Region: "ams", Config: &fly.MachineConfig{Image: "Not An Image"}}, http.StatusBadRequest, "image"},
		{"no region", "app", fly.LaunchMachineInput{Config: img()}, http.StatusBadRequest, "region"},
		{"unknown region", "app", fly.LaunchMachineInput{Region: "xyz", Config: img()}, http.StatusBadRequest, "region"},
		{"meta region", "app", fly.LaunchMachineInput{Region: "lhr,eu", Config: img()}, http.StatusBadRequest, "region"},
		{"bad guest memory", "app", fly.LaunchMachineInput{Region: "ams", Config: &fly.MachineConfig{Image: "nginx",
			Guest: &fly.MachineGuest{CPUKind: "shared", CPUs: 1, MemoryMB: 300}}}, http.StatusBadRequest, "memory_mb"},
		{"volume mount", "app", fly.LaunchMachineInput{Region: "ams", Config: &fly.MachineConfig{Image: "nginx",
			Mounts: []fly.MachineMount{{Volume: "vol_123", Path: "/data"}}}}, http.StatusBadRequest, "vol_123"},
		{"secrets version ahead", "app", fly.LaunchMachineInput{Region: "ams", Config: img(), MinSecretsVersion: ptr(uint64(5))},
			http.StatusPreconditionFailed, "min_secrets_version"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.c.Launch(e.ctx, tc.app, tc.in)
			wantErr(t, err, tc.code, tc.msg)
		})
	}
	if n := len(e.sim.Machines("app")); n != 0 {
		t.Fatalf("%d machines created by invalid requests", n)
	}
}

func ptr[T any](v T) *T { return &v }

func TestListFilters(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	e.createApp("app")
	a := e.launch("app", launchInput("ams", map[string]string{"jetway_extension": "abc", "role": "primary"}))
	b := e.launch("app", launchInput("fra", map[string]string{"jetway_extension": "abc", "role": "replica"}))
	c := e.launch("app", launchInput("ams", map[string]string{"jetway_extension": "xyz"}))
	e.launch("app", launchInput("ams", nil))

	tests := []struct {
		query string
		want  []string
	}{
		{"", []string{a.ID, b.ID, c.ID, "any"}},
		{"metadata.jetway_extension=abc", []string{a.ID, b.ID}},
		{"metadata.jetway_extension=abc&metadata.role=replica", []string{b.ID}},
		{"metadata.jetway_extension=nope", nil},
		{"metadata.jetway_extension=abc&region=fra", []string{b.ID}},
		{"region=ams&metadata.jetway_extension=xyz", []string{c.ID}},
	}
	for _, tc := range tests {
		t.Run(tc.query, func(t *testing.T) {
			got, err := e.c.List(e.ctx, "app", tc.query)
			if err != nil {
				t.Fatal(err)
			}
			if len(tc.want) > 0 && tc.want[len(tc.want)-1] == "any" {
				if len(got) != len(tc.want) {
					t.Fatalf("got %d machines, want %d", len(got), len(tc.want))
				}
				return
			}
			var ids []string
			for _, m := range got {
				ids = append(ids, m.ID)
			}
			if strings.Join(ids, ",") != strings.Join(tc.want, ",") {
				t.Fatalf("got %v, want %v", ids, tc.want)
			}
		})
	}

	// fly-go pastes its "state" argument in raw; a bare word is a bug.
	_, err := e.c.List(e.ctx, "app", "started")
	wantErr(t, err, http.StatusBadRequest, "unknown query parameter")
}

func TestUpdate(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	e.createApp("app")
	m := e.started("app")

	in := launchInput("", map[string]string{"v": "2"})
	in.ID = m.ID
	in.Config.Image = "registry.fly.io/jetway-ext:v2"
	up, err := e.c.Update(e.ctx, "app", in, "")
	if err != nil {
		t.Fatal(err)
	}
	if up.InstanceID == m.InstanceID || up.Version == m.Version {
		t.Fatal("update did not mint a new version")
	}
	if up.State != "replacing" {
		t.Fatalf("state right after update = %q, want replacing", up.State)
	}
	if up.ImageRef.Tag != "v2" || up.Config.Metadata["v"] != "2" {
		t.Fatalf("config not replaced: %+v %+v", up.ImageRef, up.Config)
	}

	// Waiting on the old version fails the way flyctl retries on.
	err = e.c.Wait(e.ctx, "app", m, "started", 5*time.Second)
	wantErr(t, err, http.StatusPreconditionFailed, "currently replaced")

	e.wait("app", up, "started")

	bad := in
	bad.Region = "syd"
	_, err = e.c.Update(e.ctx, "app", bad, "")
	wantErr(t, err, http.StatusBadRequest, "region")

	// An update on a stopped machine boots it; skip_launch keeps it down.
	if err := e.c.Stop(e.ctx, "app", fly.StopMachineInput{ID: m.ID}, ""); err != nil {
		t.Fatal(err)
	}
	e.wait("app", up, "stopped")
	in.SkipLaunch = true
	up2, err := e.c.Update(e.ctx, "app", in, "")
	if err != nil {
		t.Fatal(err)
	}
	if up2.State != "stopped" {
		t.Fatalf("skip_launch update: state %q, want stopped", up2.State)
	}
}

func TestStopStartSuspend(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	e.createApp("app")
	m := e.started("app")

	// Power actions only apply from the one resting state that makes sense.
	_, err := e.c.Start(e.ctx, "app", m.ID, "")
	wantErr(t, err, http.StatusPreconditionFailed, "refusing to start")

	if err := e.c.Stop(e.ctx, "app", fly.StopMachineInput{ID: m.ID, Signal: "SIGTERM"}, ""); err != nil {
		t.Fatal(err)
	}
	if got := e.get("app", m.ID); got.State != "stopping" {
		t.Fatalf("state right after stop = %q, want stopping", got.State)
	}
	err = e.c.Stop(e.ctx, "app", fly.StopMachineInput{ID: m.ID}, "")
	wantErr(t, err, http.StatusPreconditionFailed, "not currently started")
	e.wait("app", m, "stopped")

	res, err := e.c.Start(e.ctx, "app", m.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	if res.PreviousState != "stopped" {
		t.Fatalf("previous_state = %q", res.PreviousState)
	}
	e.wait("app", m, "started")

	if err := e.c.Suspend(e.ctx, "app", m.ID, ""); err != nil {
		t.Fatal(err)
	}
	e.wait("app", m, "suspended")
	res, err = e.c.Start(e.ctx, "app", m.ID, "")
	if err != nil || res.PreviousState != "suspended" {
		t.Fatalf("resume: %+v %v", res, err)
	}
	e.wait("app", m, "started")

	if err := e.c.Restart(e.ctx, "app", fly.RestartMachineInput{ID: m.ID, Timeout: 5 * time.Second}, ""); err != nil {
		t.Fatal(err)
	}
	e.wait("app", m, "started")

	_, err = e.c.Start(e.ctx, "app", "00000000000000", "")
	wantErr(t, err, http.StatusNotFound, "machine not found")
}

// A machine created with skip_launch stays created until started.
func TestSkipLaunch(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	e.createApp("app")
	in := launchInput("ams", nil)
	in.SkipLaunch = true
	m := e.launch("app", in)
	// Bounded by wait's own timeout, not a sleep: it must not start.
	err := e.c.Wait(e.ctx, "app", m, "started", time.Second)
	wantErr(t, err, http.StatusRequestTimeout, "deadline_exceeded")
	res, err := e.c.Start(e.ctx, "app", m.ID, "")
	if err != nil || res.PreviousState != "created" {
		t.Fatalf("Start: %+v %v", res, err)
	}
	e.wait("app", m, "started")
}

func TestDestroy(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	e.createApp("app")
	running := e.started("app")
	stopped := e.started("app")
	if err := e.c.Stop(e.ctx, "app", fly.StopMachineInput{ID: stopped.ID}, ""); err != nil {
		t.Fatal(err)
	}
	e.wait("app", stopped, "stopped")

	tests := []struct {
		name string
		id   string
		kill bool
		code int
		msg  string
	}{
		{"started without kill is refused", running.ID, false, http.StatusPreconditionFailed,
			"failed_precondition: unable to destroy machine, not currently stopped, suspended or failed"},
		{"stopped without kill", stopped.ID, false, 0, ""},
		{"started with kill", running.ID, true, 0, ""},
		{"already destroyed", stopped.ID, true, http.StatusNotFound, "machine not found"},
		{"unknown", "0123456789abcd", true, http.StatusNotFound, "machine not found"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name == "already destroyed" {
				e.wait("app", stopped, "destroyed")
			}
			err := e.c.Destroy(e.ctx, "app", fly.RemoveMachineInput{ID: tc.id, Kill: tc.kill}, "")
			if tc.code != 0 {
				wantErr(t, err, tc.code, tc.msg)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
		})
	}

	e.wait("app", running, "destroyed")
	// Destroyed machines stay readable but leave the default listing.
	if got := e.get("app", running.ID); got.State != "destroyed" {
		t.Fatalf("Get after destroy: %q", got.State)
	}
	if ms, _ := e.c.List(e.ctx, "app", ""); len(ms) != 0 {
		t.Fatalf("List shows %d destroyed machines", len(ms))
	}
	if ms, _ := e.c.List(e.ctx, "app", "include_deleted=true"); len(ms) != 2 {
		t.Fatalf("List include_deleted = %d machines, want 2", len(ms))
	}
	if n := len(e.sim.Machines("app")); n != 0 {
		t.Fatalf("sim.Machines = %d, want 0", n)
	}
}

func TestDestroyOutOfBand(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	e.createApp("app")
	m := e.started("app")
	done := make(chan error, 1)
	go func() { done <- e.c.Wait(e.ctx, "app", m, "destroyed", 10*time.Second) }()
	if err := e.sim.DestroyMachineOutOfBand("app", m.ID); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("waiter not woken by out-of-band destroy: %v", err)
	}
	if err := e.sim.DestroyMachineOutOfBand("app", m.ID); err == nil {
		t.Fatal("second out-of-band destroy succeeded")
	}
}

func TestWait(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{BootTime: 10 * time.Second})
	e.createApp("app")
	m := e.launch("app", launchInput("ams", nil))

	t.Run("times out with 408", func(t *testing.T) {
		start := time.Now()
		err := e.c.Wait(e.ctx, "app", m, "started", time.Second) // fly-go's minimum
		wantErr(t, err, http.StatusRequestTimeout, "deadline_exceeded")
		if d := time.Since(start); d > 5*time.Second {
			t.Fatalf("wait took %s", d)
		}
	})
	t.Run("honours the client going away", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(e.ctx, 100*time.Millisecond)
		defer cancel()
		start := time.Now()
		if err := e.c.Wait(ctx, "app", m, "started", 30*time.Second); err == nil {
			t.Fatal("wait succeeded")
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Fatalf("cancelled wait took %s", d)
		}
	})
	t.Run("stopped needs an instance id", func(t *testing.T) {
		err := e.c.Wait(e.ctx, "app", &fly.Machine{ID: m.ID}, "stopped", time.Second)
		wantErr(t, err, http.StatusBadRequest, "instance_id")
	})
	t.Run("unknown state", func(t *testing.T) {
		err := e.c.Wait(e.ctx, "app", m, "starting", time.Second)
		wantErr(t, err, http.StatusBadRequest, "cannot wait")
	})
	t.Run("close wakes waiters", func(t *testing.T) {
		done := make(chan error, 1)
		go func() { done <- e.c.Wait(e.ctx, "app", m, "started", 30*time.Second) }()
		// Close must not hang on the pending boot timer or the blocked wait.
		for e.sim.Requests()["machine_wait"] < 5 {
			time.Sleep(5 * time.Millisecond)
		}
		e.sim.Close()
		select {
		case err := <-done:
			if err == nil {
				t.Fatal("wait succeeded on a closed server")
			}
		case <-time.After(10 * time.Second):
			t.Fatal("waiter not released by Close")
		}
	})
}

func TestMetadataCordonEvents(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	e.createApp("app")
	m := e.started("app")

	if err := e.c.SetMetadata(e.ctx, "app", m.ID, "owner", "jetway"); err != nil {
		t.Fatal(err)
	}
	md, err := e.c.GetMetadata(e.ctx, "app", m.ID)
	if err != nil || md["owner"] != "jetway" {
		t.Fatalf("GetMetadata = %v, %v", md, err)
	}
	if ms, _ := e.c.List(e.ctx, "app", "metadata.owner=jetway"); len(ms) != 1 {
		t.Fatalf("metadata set via endpoint not filterable: %d", len(ms))
	}
	if err := e.c.DeleteMetadata(e.ctx, "app", m.ID, "owner"); err != nil {
		t.Fatal(err)
	}
	err = e.c.DeleteMetadata(e.ctx, "app", m.ID, "owner")
	wantErr(t, err, http.StatusNotFound, "metadata key not found")
	if got := e.get("app", m.ID); got.Version != m.Version {
		t.Fatal("metadata edits must not mint a version")
	}

	if err := e.c.Cordon(e.ctx, "app", m.ID, ""); err != nil {
		t.Fatal(err)
	}
	if err := e.c.Uncordon(e.ctx, "app", m.ID, ""); err != nil {
		t.Fatal(err)
	}
	got := e.get("app", m.ID)
	var kinds []string
	for _, ev := range got.Events {
		kinds = append(kinds, ev.Type+"/"+ev.Status)
	}
	if want := "uncordon/started,cordon/started,start/started,launch/created"; strings.Join(kinds, ",") != want {
		t.Fatalf("events newest first = %v, want %s", kinds, want)
	}

	_, err = e.c.Exec(e.ctx, "app", m.ID, &fly.MachineExecRequest{Cmd: "true"})
	wantErr(t, err, http.StatusNotImplemented, "")
}

// Calls that need a settled machine are refused while a transition runs.
func TestBusyMachineRefusesChanges(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{BootTime: 10 * time.Second})
	e.createApp("app")
	m := e.launch("app", launchInput("ams", nil))
	upd := launchInput("", nil)
	upd.ID = m.ID
	tests := []struct {
		name string
		call func() error
		msg  string
	}{
		{"update while launching", func() error { _, err := e.c.Update(e.ctx, "app", upd, ""); return err }, "while it is launching"},
		{"start while launching", func() error { _, err := e.c.Start(e.ctx, "app", m.ID, ""); return err }, "refusing to start"},
		{"stop before started", func() error { return e.c.Stop(e.ctx, "app", fly.StopMachineInput{ID: m.ID}, "") }, "not currently started"},
		{"destroy without kill", func() error {
			return e.c.Destroy(e.ctx, "app", fly.RemoveMachineInput{ID: m.ID}, "")
		}, "not currently stopped, suspended or failed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { wantErr(t, tc.call(), http.StatusPreconditionFailed, tc.msg) })
	}
}

func TestWedgedMachineNeverSettlesUntilDestroyed(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{BootTime: 20 * time.Millisecond})
	e.createApp("app")
	m := e.started("app")
	control := func(path string) int {
		req, _ := http.NewRequest(http.MethodPost, e.srv.URL+path, nil)
		req.Header.Set("Authorization", "Bearer "+testToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := control("/flysim/v1/apps/app/machines/" + m.ID + "/wedge"); code != http.StatusOK {
		t.Fatalf("wedge answered %d", code)
	}
	if code := control("/flysim/v1/apps/app/machines/0123456789abcd/wedge"); code != http.StatusNotFound {
		t.Fatalf("wedging an unknown machine answered %d", code)
	}
	time.Sleep(100 * time.Millisecond) // five boot times
	if st := e.get("app", m.ID).State; st != "starting" {
		t.Fatalf("a wedged machine settled in %q", st)
	}
	// Like Fly, a machine that is not started cannot be stopped; a forced
	// destroy is the way out.
	if err := e.c.Stop(e.ctx, "app", fly.StopMachineInput{ID: m.ID}, ""); httpStatus(err) != http.StatusPreconditionFailed {
		t.Fatalf("stopping a wedged machine: %v, want 412", err)
	}
	if err := e.c.Destroy(e.ctx, "app", fly.RemoveMachineInput{ID: m.ID, Kill: true}, ""); err != nil {
		t.Fatal(err)
	}
	e.wait("app", m, "destroyed")
}
