package machines

import (
	"net/http"
	"strings"
	"testing"

	"github.com/superfly/fly-go/flaps"
	"github.com/superfly/fly-go/tokens"
)

func TestCreateApp(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	e.createApp("taken")

	tests := []struct {
		name       string
		req        flaps.CreateAppRequest
		wantCode   int    // 0: success
		wantMsg    string // substring of the error
		wantStatus string // flaps StatusCode, if any
	}{
		{name: "ok", req: flaps.CreateAppRequest{Name: "jw-abc123", Org: testOrg}},
		{name: "ok with network", req: flaps.CreateAppRequest{Name: "jw-net", Org: testOrg, Network: "jw-net-nw"}},
		{name: "name taken", req: flaps.CreateAppRequest{Name: "taken", Org: testOrg},
			wantCode: http.StatusUnprocessableEntity, wantMsg: "Name has already been taken", wantStatus: "name_taken"},
		{name: "uppercase", req: flaps.CreateAppRequest{Name: "Upper", Org: testOrg}, wantCode: http.StatusUnprocessableEntity},
		{name: "underscore", req: flaps.CreateAppRequest{Name: "a_b", Org: testOrg}, wantCode: http.StatusUnprocessableEntity},
		{name: "trailing dash", req: flaps.CreateAppRequest{Name: "ab-", Org: testOrg}, wantCode: http.StatusUnprocessableEntity},
		{name: "too long", req: flaps.CreateAppRequest{Name: strings.Repeat("a", 64), Org: testOrg}, wantCode: http.StatusUnprocessableEntity},
		{name: "empty", req: flaps.CreateAppRequest{Org: testOrg}, wantCode: http.StatusUnprocessableEntity},
		{name: "other org", req: flaps.CreateAppRequest{Name: "elsewhere", Org: "someone-else"},
			wantCode: http.StatusNotFound, wantMsg: "organization not found"},
		{name: "no org", req: flaps.CreateAppRequest{Name: "no-org"}, wantCode: http.StatusBadRequest},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, err := e.c.CreateApp(e.ctx, tc.req)
			if tc.wantCode != 0 {
				wantErr(t, err, tc.wantCode, tc.wantMsg)
				if tc.wantStatus != "" {
					if sc := flaps.GetErrorStatusCode(err); sc == nil || string(*sc) != tc.wantStatus {
						t.Fatalf("status code = %v, want %s", sc, tc.wantStatus)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if a.Name != tc.req.Name || a.ID == "" || a.Status != "pending" ||
				a.Organization.Slug != testOrg || a.Network != tc.req.Network || a.MachineCount != 0 {
				t.Fatalf("unexpected app %+v", a)
			}
		})
	}
}

func TestGetAndListApps(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	e.createApp("b-app")
	e.createApp("a-app")

	got, err := e.c.GetApp(e.ctx, "a-app")
	if err != nil || got.Name != "a-app" {
		t.Fatalf("GetApp = %+v, %v", got, err)
	}
	_, err = e.c.GetApp(e.ctx, "missing")
	wantErr(t, err, http.StatusNotFound, "")
	if err.Error() != "app not found" {
		// fly-go's AppNameAvailable compares this text exactly.
		t.Fatalf("error text = %q, want exactly %q", err.Error(), "app not found")
	}

	apps, err := e.c.ListApps(e.ctx, flaps.ListAppsRequest{OrgSlug: testOrg})
	if err != nil {
		t.Fatal(err)
	}
	if len(apps) != 2 || apps[0].Name != "a-app" || apps[1].Name != "b-app" {
		t.Fatalf("ListApps = %+v", apps)
	}
	_, err = e.c.ListApps(e.ctx, flaps.ListAppsRequest{OrgSlug: "someone-else"})
	wantErr(t, err, http.StatusNotFound, "organization not found")
}

func TestDeleteAppCascades(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	e.createApp("doomed")
	e.createApp("survivor")
	m := e.started("doomed")
	other := e.started("survivor")
	// A lease does not protect a machine from its app's deletion.
	ttl := 60
	if _, err := e.c.AcquireLease(e.ctx, "doomed", m.ID, &ttl); err != nil {
		t.Fatal(err)
	}
	if _, err := e.c.AssignIP(e.ctx, "doomed", flaps.AssignIPRequest{Type: "private_v6"}); err != nil {
		t.Fatal(err)
	}
	v := "s3cret"
	if _, err := e.c.UpdateAppSecrets(e.ctx, "doomed", map[string]*string{"DB_PASSWORD": &v}); err != nil {
		t.Fatal(err)
	}

	if err := e.c.DeleteApp(e.ctx, "doomed"); err != nil {
		t.Fatal(err)
	}

	_, err := e.c.GetApp(e.ctx, "doomed")
	wantErr(t, err, http.StatusNotFound, "app not found")
	_, err = e.c.List(e.ctx, "doomed", "")
	wantErr(t, err, http.StatusNotFound, "app not found")
	if ms := e.sim.Machines("doomed"); len(ms) != 0 {
		t.Fatalf("machines left: %+v", ms)
	}
	if all := e.sim.AllMachines(); len(all) != 1 || all[0].ID != other.ID {
		t.Fatalf("AllMachines = %+v, want only %s", all, other.ID)
	}
	if ips := e.sim.IPAssignments("doomed"); ips != nil {
		t.Fatalf("IPs left: %+v", ips)
	}
	if sec := e.sim.Secrets("doomed"); sec != nil {
		t.Fatalf("secrets left: %+v", sec)
	}
	for _, a := range e.sim.Apps() {
		if a.Name == "doomed" {
			t.Fatal("app still listed")
		}
	}
	// The name is free again.
	e.createApp("doomed")
	if ms, _ := e.c.List(e.ctx, "doomed", "include_deleted=true"); len(ms) != 0 {
		t.Fatalf("recreated app inherited machines: %+v", ms)
	}
}

func TestUnauthorized(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	e.createApp("private")
	tests := []struct {
		name string
		toks *tokens.Tokens
	}{
		{"wrong token", tokens.Parse("not-the-token")},
		{"token prefix", tokens.Parse(testToken[:5])},
		{"no token", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := e.client(tc.toks)
			_, err := c.GetApp(e.ctx, "private")
			wantErr(t, err, http.StatusUnauthorized, "unauthorized")
			_, err = c.Launch(e.ctx, "private", launchInput("ams", nil))
			wantErr(t, err, http.StatusUnauthorized, "unauthorized")
		})
	}
	if n := len(e.sim.Machines("private")); n != 0 {
		t.Fatalf("unauthorized launch created %d machines", n)
	}
	if got := e.sim.Requests()["machine_create"]; got != len(tests) {
		t.Fatalf("machine_create count = %d, want %d (rejected requests count too)", got, len(tests))
	}
}

// A Bearer-prefixed token in Options must still match what fly-go sends.
func TestTokenWithScheme(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{Token: "Bearer " + testToken})
	c := e.client(tokens.Parse(testToken))
	if _, err := c.CreateApp(e.ctx, flaps.CreateAppRequest{Name: "ok", Org: testOrg}); err != nil {
		t.Fatal(err)
	}
}
