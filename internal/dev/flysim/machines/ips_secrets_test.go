package machines

import (
	"net/http"
	"strings"
	"testing"

	"github.com/superfly/fly-go/flaps"
)

func TestIPAssignments(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	e.createApp("app")

	tests := []struct {
		name   string
		req    flaps.AssignIPRequest
		prefix string // success when set
		code   int
	}{
		{"private_v6 is flycast", flaps.AssignIPRequest{Type: "private_v6"}, "fdaa:", 0},
		{"second private_v6", flaps.AssignIPRequest{Type: "private_v6", ServiceName: "db"}, "fdaa:", 0},
		{"cross-org private_v6", flaps.AssignIPRequest{Type: "private_v6", Organization: "customer-org"}, "fdaa:", 0},
		{"public v6", flaps.AssignIPRequest{Type: "v6"}, "2a09:", 0},
		{"shared v4", flaps.AssignIPRequest{Type: "shared_v4"}, "66.241.124.", 0},
		{"second shared v4", flaps.AssignIPRequest{Type: "shared_v4"}, "", http.StatusUnprocessableEntity},
		{"unknown type", flaps.AssignIPRequest{Type: "v5"}, "", http.StatusBadRequest},
		{"org on public ip", flaps.AssignIPRequest{Type: "v6", Organization: "x"}, "", http.StatusBadRequest},
	}
	seen := map[string]bool{}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ip, err := e.c.AssignIP(e.ctx, "app", tc.req)
			if tc.code != 0 {
				wantErr(t, err, tc.code, "")
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(ip.IP, tc.prefix) || seen[ip.IP] || ip.CreatedAt.IsZero() {
				t.Fatalf("assignment %+v (want prefix %s, unique)", ip, tc.prefix)
			}
			if ip.IsFlycast() != (tc.req.Type == "private_v6") || ip.Shared != (tc.req.Type == "shared_v4") {
				t.Fatalf("assignment %+v has wrong kind", ip)
			}
			seen[ip.IP] = true
		})
	}

	list, err := e.c.GetIPAssignments(e.ctx, "app")
	if err != nil || len(list.IPs) != 5 {
		t.Fatalf("GetIPAssignments = %+v, %v", list, err)
	}
	first := list.IPs[0].IP
	if err := e.c.DeleteIPAssignment(e.ctx, "app", first); err != nil {
		t.Fatal(err)
	}
	wantErr(t, e.c.DeleteIPAssignment(e.ctx, "app", first), http.StatusNotFound, "ip assignment not found")
	if got := e.sim.IPAssignments("app"); len(got) != 4 {
		t.Fatalf("sim.IPAssignments = %d, want 4", len(got))
	}
	_, err = e.c.AssignIP(e.ctx, "nope", flaps.AssignIPRequest{Type: "private_v6"})
	wantErr(t, err, http.StatusNotFound, "app not found")
}

func TestSecrets(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	e.createApp("app")
	str := func(s string) *string { return &s }

	res, err := e.c.UpdateAppSecrets(e.ctx, "app", map[string]*string{"A": str("1"), "B": str("2")})
	if err != nil || res.Version != 1 || len(res.Secrets) != 2 {
		t.Fatalf("UpdateAppSecrets = %+v, %v", res, err)
	}

	list, err := e.c.ListAppSecrets(e.ctx, "app", nil, false)
	if err != nil || len(list) != 2 {
		t.Fatalf("ListAppSecrets = %+v, %v", list, err)
	}
	for _, s := range list {
		if s.Value != nil || s.Digest == "" || s.CreatedAt == nil {
			t.Fatalf("hidden listing %+v", s)
		}
	}
	shown, err := e.c.ListAppSecrets(e.ctx, "app", nil, true)
	if err != nil || shown[0].Name != "A" || shown[0].Value == nil || *shown[0].Value != "1" {
		t.Fatalf("show_secrets listing = %+v, %v", shown, err)
	}

	set, err := e.c.SetAppSecret(e.ctx, "app", "C", "3")
	if err != nil || set.Version != 2 || set.Name != "C" {
		t.Fatalf("SetAppSecret = %+v, %v", set, err)
	}
	got, err := e.c.GetAppSecrets(e.ctx, "app", "C", nil, true)
	if err != nil || got.Value == nil || *got.Value != "3" {
		t.Fatalf("GetAppSecrets = %+v, %v", got, err)
	}
	del, err := e.c.DeleteAppSecret(e.ctx, "app", "C")
	if err != nil || del.Version != 3 {
		t.Fatalf("DeleteAppSecret = %+v, %v", del, err)
	}
	if _, err := e.c.UpdateAppSecrets(e.ctx, "app", map[string]*string{"A": nil, "B": str("22")}); err != nil {
		t.Fatal(err)
	}
	if sec := e.sim.Secrets("app"); len(sec) != 1 || sec["B"] != "22" {
		t.Fatalf("sim.Secrets = %v", sec)
	}

	errs := []struct {
		name string
		err  error
		code int
	}{
		{"get missing", func() error { _, err := e.c.GetAppSecrets(e.ctx, "app", "C", nil, false); return err }(), http.StatusNotFound},
		{"delete missing", func() error { _, err := e.c.DeleteAppSecret(e.ctx, "app", "C"); return err }(), http.StatusNotFound},
		{"bad name", func() error { _, err := e.c.SetAppSecret(e.ctx, "app", "1-bad", "x"); return err }(), http.StatusBadRequest},
		{"future version", func() error {
			v := uint64(99)
			_, err := e.c.ListAppSecrets(e.ctx, "app", &v, false)
			return err
		}(), http.StatusPreconditionFailed},
		{"unknown app", func() error { _, err := e.c.ListAppSecrets(e.ctx, "nope", nil, false); return err }(), http.StatusNotFound},
	}
	for _, tc := range errs {
		t.Run(tc.name, func(t *testing.T) { wantErr(t, tc.err, tc.code, "") })
	}

	// A machine may demand the current secrets version.
	in := launchInput("ams", nil)
	in.MinSecretsVersion = ptr(uint64(4))
	if _, err := e.c.Launch(e.ctx, "app", in); err != nil {
		t.Fatalf("launch at current secrets version: %v", err)
	}
}
