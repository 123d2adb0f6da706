package flysim

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/superfly/fly-go/flaps"

	"github.com/jetway-dev/jetway/internal/dev/flysign"
)

func TestControlEndpoints(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})

	for _, path := range []string{"/flysim/v1/faults", "/flysim/v1/stats"} {
		if code, _ := rawDo(t, e, "GET", path, "", ""); code != http.StatusUnauthorized {
			t.Errorf("GET %s without a token = %d, want 401", path, code)
		}
		if code, _ := rawDo(t, e, "GET", path, "", "wrong"); code != http.StatusUnauthorized {
			t.Errorf("GET %s with a wrong token = %d, want 401", path, code)
		}
	}
	if code, _ := rawDo(t, e, "PUT", "/flysim/v1/faults", `{"hang_rate":1}`, ""); code != http.StatusUnauthorized {
		t.Fatalf("PUT without a token = %d", code)
	}
	if e.sim.Faults().HangRate != 0 {
		t.Fatal("an unauthorized PUT changed the faults")
	}

	code, body := rawDo(t, e, "PUT", "/flysim/v1/faults",
		`{"seed":7,"latency_p50":"1ms","latency_p95":"3ms","capacity_error_rate":1}`, testToken)
	want := `{"seed":7,"latency_p50":"1ms","latency_p95":"3ms","server_error_rate":0,"hang_rate":0,` +
		`"hang_for":"1m5s","lost_response_rate":0,"capacity_error_rate":1,"crash_rate":0}`
	if code != http.StatusOK || string(body) != want {
		t.Fatalf("PUT = %d %s\nwant 200 %s", code, body, want)
	}
	if f := e.sim.Faults(); f.Seed != 7 || f.CapacityErrorRate != 1 || f.LatencyP95 != 3*time.Millisecond {
		t.Fatalf("Faults() after PUT = %+v", f)
	}
	if code, body := rawDo(t, e, "GET", "/flysim/v1/faults", "", testToken); code != http.StatusOK || string(body) != want {
		t.Fatalf("GET = %d %s", code, body)
	}
	for _, bad := range []string{`{"hang_rate":2}`, `{"latency_p50":"1ms"}`, `{"hang_rat":0.1}`, `{"hang_for":"soon"}`, ``} {
		if code, _ := rawDo(t, e, "PUT", "/flysim/v1/faults", bad, testToken); code != http.StatusBadRequest {
			t.Errorf("PUT %s = %d, want 400", bad, code)
		}
	}
	if code, _ := rawDo(t, e, "POST", "/flysim/v1/faults", "{}", testToken); code != http.StatusMethodNotAllowed {
		t.Errorf("POST faults = %d, want 405", code)
	}

	// The faults are live: creates now fail on capacity.
	e.createApp("app")
	_, err := e.c.Launch(e.ctx, "app", launchInput("ams", nil))
	var fe *flaps.FlapsError
	if !errors.As(err, &fe) {
		t.Fatalf("launch with capacity_error_rate 1: %v", err)
	}

	code, body = rawDo(t, e, "GET", "/flysim/v1/stats", "", testToken)
	var st Stats
	if code != http.StatusOK || jsonUnmarshalStrict(body, &st) != nil {
		t.Fatalf("GET stats = %d %s", code, body)
	}
	if st.Requests["app_create"] != 1 || st.Requests["machine_create"] != 1 || st.Injected["capacity"] != 1 ||
		len(st.Injected) != 6 || st.RateLimited != 0 {
		t.Fatalf("stats = %+v", st)
	}
	for action := range st.Requests {
		if action != "app_create" && action != "machine_create" {
			t.Fatalf("control requests counted as %q", action)
		}
	}
}

func TestOAuthOff(t *testing.T) {
	t.Parallel()
	sim := New(Options{Token: testToken, OrgSlug: testOrg})
	srv := httptest.NewServer(sim)
	t.Cleanup(func() { sim.Close(); srv.Close() })
	for _, p := range []string{"/oauth/authorize?client_id=x", "/oauth/token/info"} {
		resp, err := srv.Client().Get(srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		body := readAll(t, resp)
		if resp.StatusCode != http.StatusNotFound || !strings.Contains(body, `"error"`) {
			t.Errorf("GET %s with OAuth off: %d %s, want 404 JSON", p, resp.StatusCode, body)
		}
	}
}

// Every simulator's control routes sit behind the Machines API token and
// follow it when it is rotated; a method a route does not take is a 405;
// and none of them, nor Fly's webhook and OAuth endpoints, count as
// Machines API traffic.
func TestControlAPIIsGuardedAndUncounted(t *testing.T) {
	t.Parallel()
	const hookSecret = "webhook-test-secret"
	e := newEnv(t, Options{WebhookSecret: hookSecret, OAuth: &OAuthOptions{Users: DefaultOAuthUsers()}})
	routes := []struct{ method, path, body string }{
		{"GET", "/flysim/v1/faults", ""},
		{"PUT", "/flysim/v1/faults", `{"hang_rate":1}`},
		{"GET", "/flysim/v1/stats", ""},
		{"GET", "/flysim/v1/webhooks", ""},
		{"GET", "/flysim/v1/webhook-failure", ""},
		{"PUT", "/flysim/v1/webhook-failure", `{"count":1}`},
		{"GET", "/flysim/v1/events", ""},
		{"PUT", "/flysim/v1/events", `{"url":"http://127.0.0.1:1/events"}`},
		{"POST", "/flysim/v1/apps/app/traffic", ""},
		{"POST", "/flysim/v1/apps/app/machines/0123456789abcd/wedge", ""},
		{"GET", "/flysim/v1/no-such-route", ""},
	}
	for _, c := range routes {
		for _, tok := range []string{"", "wrong-token"} {
			if code, _ := rawDo(t, e, c.method, c.path, c.body, tok); code != http.StatusUnauthorized {
				t.Errorf("%s %s with token %q = %d, want 401", c.method, c.path, tok, code)
			}
		}
	}
	if e.sim.Faults().HangRate != 0 || e.sim.WebhookFailure() != (WebhookFailure{}) || e.sim.EventsStatus().URL != "" {
		t.Fatal("an unauthorized PUT changed something")
	}

	for _, c := range []struct {
		method, path string
		want         int
	}{
		{"POST", "/flysim/v1/faults", http.StatusMethodNotAllowed},
		{"POST", "/flysim/v1/stats", http.StatusMethodNotAllowed},
		{"POST", "/flysim/v1/webhooks", http.StatusMethodNotAllowed},
		{"DELETE", "/flysim/v1/webhook-failure", http.StatusMethodNotAllowed},
		{"POST", "/flysim/v1/events", http.StatusMethodNotAllowed},
		{"GET", "/flysim/v1/apps/app/traffic", http.StatusMethodNotAllowed},
		{"GET", "/flysim/v1/no-such-route", http.StatusNotFound},
	} {
		code, body := rawDo(t, e, c.method, c.path, "", testToken)
		if code != c.want || !strings.Contains(string(body), `"error"`) {
			t.Errorf("%s %s = %d %s, want %d with a JSON error", c.method, c.path, code, body, c.want)
		}
	}

	// Rotating the token moves the guard with it.
	e.sim.SetToken("rotated-token")
	if code, _ := rawDo(t, e, "GET", "/flysim/v1/stats", "", testToken); code != http.StatusUnauthorized {
		t.Errorf("GET stats with the old token = %d, want 401", code)
	}
	if code, _ := rawDo(t, e, "GET", "/flysim/v1/stats", "", "rotated-token"); code != http.StatusOK {
		t.Errorf("GET stats with the new token = %d, want 200", code)
	}

	// Fly's other endpoints answer without the Machines API token.
	url := e.srv.URL + "/api/hooks/extensions/jetway"
	body, err := json.Marshal(map[string]any{
		"timestamp": strconv.FormatInt(time.Now().Unix(), 10), "nonce": "n-1", "url": url,
		"delivery_id": "d-1", "action": "resource.created", "resource": map[string]any{"id": "ext-1"},
	})
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequestWithContext(e.ctx, http.MethodPost, url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Signature", flysign.Sign([]byte(hookSecret), body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, resp); resp.StatusCode != http.StatusOK || len(e.sim.WebhookDeliveries()) != 1 {
		t.Errorf("webhook = %d %s, want it accepted", resp.StatusCode, got)
	}
	resp, err = http.Get(e.srv.URL + "/oauth/authorize?client_id=nobody")
	if err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, resp); resp.StatusCode != http.StatusBadRequest || !strings.Contains(got, "invalid_client") {
		t.Errorf("authorize = %d %s, want the 400 error page", resp.StatusCode, got)
	}
	// The control API is not Fly: it is not counted as Machines API
	// traffic, and neither are webhooks or OAuth.
	if n := len(e.sim.Requests()); n != 0 {
		t.Fatalf("Machines API requests counted: %v", e.sim.Requests())
	}
	if resp.Header.Get("fly-request-id") == "" {
		t.Error("the OAuth answer has no fly-request-id")
	}
}
