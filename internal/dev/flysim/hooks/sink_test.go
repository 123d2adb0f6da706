package hooks

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jetway-dev/jetway/internal/dev/flysign"
	"github.com/jetway-dev/jetway/internal/dev/flysim/internal/flysimtest"
)

const testWebhookSecret = "webhook-test-secret"

const testToken = flysimtest.Token

// hookEnv is a sink on a test server, on a settable clock, with its
// control routes behind testToken.
type hookEnv struct {
	t     *testing.T
	sim   *Sink
	srv   *httptest.Server
	ctx   context.Context
	clock *flysimtest.Clock
}

func newHookEnv(t *testing.T) *hookEnv {
	t.Helper()
	return newSinkEnv(t, testWebhookSecret, flysimtest.NewClock(time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)))
}

func newSinkEnv(t *testing.T, secret string, clock *flysimtest.Clock) *hookEnv {
	t.Helper()
	sink := New(Options{Secret: secret, Now: clock.Now})
	mux := http.NewServeMux()
	sink.Register(mux)
	sink.RegisterControl(mux, requireTestToken)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return &hookEnv{t: t, sim: sink, srv: srv, ctx: ctx, clock: clock}
}

// requireTestToken stands in for flysim's guard, the Machines API token.
func requireTestToken(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+testToken {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	})
}

func rawDo(t *testing.T, e *hookEnv, method, path, body, token string) (int, []byte) {
	t.Helper()
	return flysimtest.RawDo(t, e.ctx, e.srv.URL, method, path, body, token)
}

func hookURL(e *hookEnv, provider string) string { return e.srv.URL + PathPrefix + provider }

func randomNonce(t *testing.T) string {
	t.Helper()
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// hookBody builds a webhook as Jetway's notifier sends it: a fresh nonce and
// the clock's timestamp, signed for provider's URL. edit may change any field
// (delete one, or set it to something else) before encoding.
func (e *hookEnv) hookBody(provider, deliveryID, action string, resource map[string]any, edit func(map[string]any)) []byte {
	e.t.Helper()
	m := map[string]any{
		"timestamp":   strconv.FormatInt(e.clock.Now().Unix(), 10),
		"nonce":       randomNonce(e.t),
		"url":         hookURL(e, provider),
		"delivery_id": deliveryID,
		"action":      action,
		"resource":    resource,
	}
	if edit != nil {
		edit(m)
	}
	b, err := json.Marshal(m)
	if err != nil {
		e.t.Fatal(err)
	}
	return b
}

type hookAnswer struct {
	code   int
	header http.Header
	body   map[string]any
}

// post sends body to provider's webhook URL with the given X-Signature (""
// for none) and content type.
func (e *hookEnv) post(provider string, body []byte, sig, contentType string) hookAnswer {
	e.t.Helper()
	req, err := http.NewRequestWithContext(e.ctx, http.MethodPost, hookURL(e, provider), bytes.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if sig != "" {
		req.Header.Set("X-Signature", sig)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	a := hookAnswer{code: resp.StatusCode, header: resp.Header}
	if err := json.Unmarshal(raw, &a.body); err != nil {
		e.t.Fatalf("answer %d is not a JSON object: %q", resp.StatusCode, raw)
	}
	return a
}

// send signs body with the webhook secret and posts it as JSON.
func (e *hookEnv) send(provider string, body []byte) hookAnswer {
	e.t.Helper()
	return e.post(provider, body, flysign.Sign([]byte(testWebhookSecret), body), "application/json")
}

func (e *hookEnv) deliver(provider, deliveryID, action string, resource map[string]any) hookAnswer {
	e.t.Helper()
	return e.send(provider, e.hookBody(provider, deliveryID, action, resource, nil))
}

func wantHook(t *testing.T, a hookAnswer, code int, errCode string) {
	t.Helper()
	if a.code != code {
		t.Fatalf("got HTTP %d %v, want %d %s", a.code, a.body, code, errCode)
	}
	if errCode == "" {
		if a.body["ok"] != true {
			t.Fatalf("got body %v, want {\"ok\":true}", a.body)
		}
		return
	}
	if a.body["error"] != errCode {
		t.Fatalf("got error %v (%v), want %s", a.body["error"], a.body["message"], errCode)
	}
	if msg, _ := a.body["message"].(string); msg == "" {
		t.Fatalf("error %s has no message", errCode)
	}
}

func wantHookStats(t *testing.T, s *Sink, accepted, rejected, failed int) {
	t.Helper()
	if a, r, f := s.Stats(); a != accepted || r != rejected || f != failed {
		t.Fatalf("WebhookStats = %d accepted, %d rejected, %d failed on purpose; want %d, %d, %d", a, r, f, accepted, rejected, failed)
	}
}

func testResource() map[string]any {
	return map[string]any{
		"id": "ext-1", "name": "demo-db", "status": "ready", "plan": "basic",
		"organization_id": "org-1", "read_regions": []any{"syd", "scl"},
	}
}

func TestWebhookAccepted(t *testing.T) {
	t.Parallel()
	e := newHookEnv(t)
	// No Authorization header: Fly authenticates webhooks by signature.
	wantHook(t, e.deliver("jetway", "d-1", "resource.created", testResource()), http.StatusOK, "")

	got := e.sim.Deliveries()
	if len(got) != 1 {
		t.Fatalf("got %d deliveries, want 1", len(got))
	}
	d := got[0]
	if d.DeliveryID != "d-1" || d.Provider != "jetway" || d.Action != "resource.created" || d.ResourceID != "ext-1" ||
		d.Duplicate || !d.ReceivedAt.Equal(e.clock.Now()) {
		t.Fatalf("delivery = %+v", d)
	}
	if d.Resource["status"] != "ready" || d.Resource["name"] != "demo-db" {
		t.Fatalf("resource = %v", d.Resource)
	}
	// Deep copies: changing what was returned changes nothing recorded.
	d.Resource["status"] = "changed"
	d.Resource["read_regions"].([]any)[0] = "changed"
	again := e.sim.Deliveries()[0].Resource
	if again["status"] != "ready" || again["read_regions"].([]any)[0] != "syd" {
		t.Fatalf("WebhookDeliveries shares state with its caller: %v", again)
	}

	// Every action, and a timestamp at the edge of the window.
	wantHook(t, e.deliver("jetway", "d-2", "resource.updated", testResource()), http.StatusOK, "")
	body := e.hookBody("jetway", "d-3", "resource.deleted", testResource(), func(m map[string]any) {
		m["timestamp"] = strconv.FormatInt(e.clock.Now().Add(-flysign.MaxSkew).Unix(), 10)
	})
	wantHook(t, e.send("jetway", body), http.StatusOK, "")
	// Content-Type parameters are fine.
	body = e.hookBody("jetway", "d-4", "resource.updated", testResource(), nil)
	wantHook(t, e.post("jetway", body, flysign.Sign([]byte(testWebhookSecret), body), "application/json; charset=utf-8"), http.StatusOK, "")

	var actions []string
	for _, d := range e.sim.Deliveries() {
		actions = append(actions, d.Action)
	}
	if strings.Join(actions, ",") != "resource.created,resource.updated,resource.deleted,resource.updated" {
		t.Fatalf("actions in order = %v", actions)
	}
	wantHookStats(t, e.sim, 4, 0, 0)
}

func TestWebhookRejections(t *testing.T) {
	t.Parallel()
	e := newHookEnv(t)
	sign := func(b []byte) string { return flysign.Sign([]byte(testWebhookSecret), b) }
	body := func(edit func(map[string]any)) []byte {
		return e.hookBody("jetway", "d-1", "resource.updated", testResource(), edit)
	}
	set := func(field string, v any) func(map[string]any) {
		return func(m map[string]any) { m[field] = v }
	}
	del := func(field string) func(map[string]any) {
		return func(m map[string]any) { delete(m, field) }
	}
	now := e.clock.Now()
	tests := []struct {
		name        string
		provider    string // "" means jetway
		body        []byte
		sig         func([]byte) string
		contentType string // "" means application/json
		code        int
		errCode     string
	}{
		{"missing signature", "", body(nil), func([]byte) string { return "" }, "", 401, flysign.CodeMissingSignature},
		{"wrong secret", "", body(nil), func(b []byte) string { return flysign.Sign([]byte("not-the-secret"), b) }, "", 401, flysign.CodeBadSignature},
		{"the Machines API token is not the secret", "", body(nil), func(b []byte) string { return flysign.Sign([]byte(testToken), b) }, "", 401, flysign.CodeBadSignature},
		{"signature over other bytes", "", body(nil), func(b []byte) string { return sign(append(b, ' ')) }, "", 401, flysign.CodeBadSignature},
		{"garbage signature", "", body(nil), func([]byte) string { return "nope" }, "", 401, flysign.CodeBadSignature},
		{"unsigned garbage", "", []byte("not json"), func([]byte) string { return "" }, "", 401, flysign.CodeMissingSignature},
		{"stale timestamp", "", body(set("timestamp", strconv.FormatInt(now.Add(-301*time.Second).Unix(), 10))), sign, "", 401, flysign.CodeStaleTimestamp},
		{"future timestamp", "", body(set("timestamp", strconv.FormatInt(now.Add(301*time.Second).Unix(), 10))), sign, "", 401, flysign.CodeStaleTimestamp},
		{"non-numeric timestamp", "", body(set("timestamp", "yesterday")), sign, "", 401, flysign.CodeMissingParam},
		{"missing timestamp", "", body(del("timestamp")), sign, "", 401, flysign.CodeMissingParam},
		{"missing nonce", "", body(del("nonce")), sign, "", 401, flysign.CodeMissingParam},
		{"missing url", "", body(del("url")), sign, "", 401, flysign.CodeMissingParam},
		{"url of another provider", "", body(set("url", hookURL(e, "other"))), sign, "", 401, flysign.CodeURLMismatch},
		{"url of another host", "", body(set("url", "https://api.fly.io/api/hooks/extensions/jetway")), sign, "", 401, flysign.CodeURLMismatch},
		{"posted to another provider", "other", body(nil), sign, "", 401, flysign.CodeURLMismatch},
		{"malformed JSON", "", []byte(`{"action":`), sign, "", 400, "invalid_json"},
		{"JSON array", "", []byte(`[]`), sign, "", 400, "invalid_json"},
		{"numeric timestamp", "", body(set("timestamp", now.Unix())), sign, "", 400, "invalid_webhook"},
		{"missing action", "", body(del("action")), sign, "", 400, "invalid_webhook"},
		{"empty action", "", body(set("action", "")), sign, "", 400, "invalid_webhook"},
		{"unknown action", "", body(set("action", "resource.exploded")), sign, "", 400, "invalid_webhook"},
		{"missing resource", "", body(del("resource")), sign, "", 400, "invalid_webhook"},
		{"null resource", "", body(set("resource", nil)), sign, "", 400, "invalid_webhook"},
		{"resource not an object", "", body(set("resource", "ext-1")), sign, "", 400, "invalid_webhook"},
		{"resource without id", "", body(set("resource", map[string]any{"status": "ready"})), sign, "", 400, "invalid_webhook"},
		{"resource id not a string", "", body(set("resource", map[string]any{"id": 7})), sign, "", 400, "invalid_webhook"},
		{"missing delivery_id", "", body(del("delivery_id")), sign, "", 400, "invalid_webhook"},
		{"delivery_id not a string", "", body(set("delivery_id", 1)), sign, "", 400, "invalid_webhook"},
		{"not JSON content type", "", body(nil), sign, "text/plain", 415, "unsupported_media_type"},
	}
	for i, tc := range tests {
		provider := tc.provider
		if provider == "" {
			provider = "jetway"
		}
		ct := tc.contentType
		if ct == "" {
			ct = "application/json"
		}
		a := e.post(provider, tc.body, tc.sig(tc.body), ct)
		t.Run(tc.name, func(t *testing.T) { wantHook(t, a, tc.code, tc.errCode) })
		wantHookStats(t, e.sim, 0, i+1, 0)
	}

	// A replay: the same signed bytes twice. The first is fine.
	replay := body(nil)
	wantHook(t, e.send("jetway", replay), http.StatusOK, "")
	wantHook(t, e.send("jetway", replay), http.StatusUnauthorized, flysign.CodeReplayedNonce)
	// Still a replay much later, however it is dated: the nonce is kept as
	// long as its timestamp could pass.
	e.clock.Advance(4 * time.Minute)
	wantHook(t, e.send("jetway", replay), http.StatusUnauthorized, flysign.CodeReplayedNonce)
	e.clock.Advance(2 * time.Minute)
	wantHook(t, e.send("jetway", replay), http.StatusUnauthorized, flysign.CodeStaleTimestamp)

	// Only POST.
	code, _ := rawDo(t, e, http.MethodGet, "/api/hooks/extensions/jetway", "", "")
	if code != http.StatusMethodNotAllowed {
		t.Fatalf("GET webhook URL = %d, want 405", code)
	}

	if n := len(e.sim.Deliveries()); n != 1 {
		t.Fatalf("recorded %d deliveries, want only the one accepted", n)
	}
	wantHookStats(t, e.sim, 1, len(tests)+3, 0)

	// The control API shows why deliveries were refused.
	code, raw := rawDo(t, e, http.MethodGet, "/flysim/v1/webhooks", "", testToken)
	var got webhooksJSON
	if err := json.Unmarshal(raw, &got); code != http.StatusOK || err != nil {
		t.Fatalf("GET /flysim/v1/webhooks = %d %s (%v)", code, raw, err)
	}
	if len(got.RecentRejections) != maxRecentRejections {
		t.Fatalf("got %d recent rejections, want the last %d", len(got.RecentRejections), maxRecentRejections)
	}
	if last := got.RecentRejections[maxRecentRejections-1]; last.Error != flysign.CodeStaleTimestamp || last.Status != 401 || last.Provider != "jetway" {
		t.Fatalf("last rejection = %+v", last)
	}
}

func TestWebhookWithoutSecret(t *testing.T) {
	t.Parallel()
	e := newSinkEnv(t, "", flysimtest.NewClock(time.Now()))
	body := e.hookBody("jetway", "d-1", "resource.created", testResource(), nil)
	wantHook(t, e.send("jetway", body), http.StatusServiceUnavailable, "webhooks_not_configured")
	// Even signed with nothing: an empty secret is no key.
	wantHook(t, e.post("jetway", body, flysign.Sign(nil, body), "application/json"), http.StatusServiceUnavailable, "webhooks_not_configured")
	if n := len(e.sim.Deliveries()); n != 0 {
		t.Fatalf("recorded %d deliveries without a secret", n)
	}
	wantHookStats(t, e.sim, 0, 2, 0)
}

func TestWebhookDuplicate(t *testing.T) {
	t.Parallel()
	e := newHookEnv(t)
	res := testResource()
	wantHook(t, e.deliver("jetway", "d-1", "resource.updated", res), http.StatusOK, "")
	// A retry: fresh nonce and timestamp, same delivery id.
	e.clock.Advance(time.Second)
	wantHook(t, e.deliver("jetway", "d-1", "resource.updated", res), http.StatusOK, "")
	wantHook(t, e.deliver("jetway", "d-2", "resource.updated", res), http.StatusOK, "")
	// Delivery ids are the provider's own: another provider's d-1 is new.
	wantHook(t, e.deliver("other", "d-1", "resource.updated", res), http.StatusOK, "")
	wantHook(t, e.deliver("jetway", "d-1", "resource.updated", res), http.StatusOK, "")

	var got []string
	for _, d := range e.sim.Deliveries() {
		got = append(got, d.Provider+"/"+d.DeliveryID+"/"+strconv.FormatBool(d.Duplicate))
	}
	want := "jetway/d-1/false jetway/d-1/true jetway/d-2/false other/d-1/false jetway/d-1/true"
	if strings.Join(got, " ") != want {
		t.Fatalf("deliveries = %v\nwant          %s", got, want)
	}
	wantHookStats(t, e.sim, 5, 0, 0)
}

func TestWebhookFailureCount(t *testing.T) {
	t.Parallel()
	e := newHookEnv(t)
	e.sim.SetFailure(Failure{Status: http.StatusInternalServerError, Count: 2, RetryAfter: 1500 * time.Millisecond})

	a := e.deliver("jetway", "d-1", "resource.created", testResource())
	wantHook(t, a, http.StatusInternalServerError, "webhook_failure_injected")
	if got := a.header.Get("Retry-After"); got != "2" {
		t.Fatalf("Retry-After = %q, want 2 (1.5s rounded up)", got)
	}
	// A bad signature is still a 401, and does not use up the count.
	bad := e.hookBody("jetway", "d-1", "resource.created", testResource(), nil)
	wantHook(t, e.post("jetway", bad, "0000", "application/json"), http.StatusUnauthorized, flysign.CodeBadSignature)
	if f := e.sim.Failure(); f.Count != 1 {
		t.Fatalf("failure in force = %+v, want 1 more to fail", f)
	}
	// So is a replay of the delivery that failed: its nonce was used.
	failed := e.hookBody("jetway", "d-1", "resource.created", testResource(), nil)
	wantHook(t, e.send("jetway", failed), http.StatusInternalServerError, "webhook_failure_injected")
	wantHook(t, e.send("jetway", failed), http.StatusUnauthorized, flysign.CodeReplayedNonce)
	if n := len(e.sim.Deliveries()); n != 0 {
		t.Fatalf("recorded %d deliveries while failing", n)
	}

	// Count used up: the retry goes through, and is not a duplicate since
	// the failed attempts were not accepted.
	wantHook(t, e.deliver("jetway", "d-1", "resource.created", testResource()), http.StatusOK, "")
	if f := e.sim.Failure(); f != (Failure{}) {
		t.Fatalf("failure in force after its count = %+v, want off", f)
	}
	if d := e.sim.Deliveries(); len(d) != 1 || d[0].Duplicate {
		t.Fatalf("deliveries = %+v", d)
	}
	wantHookStats(t, e.sim, 1, 2, 2)

	// The default status is 503, and no Retry-After unless asked for.
	e.sim.SetFailure(Failure{Count: 1})
	a = e.deliver("jetway", "d-2", "resource.updated", testResource())
	wantHook(t, a, http.StatusServiceUnavailable, "webhook_failure_injected")
	if got := a.header.Get("Retry-After"); got != "" {
		t.Fatalf("Retry-After = %q, want none", got)
	}
	// The zero value turns a failure off.
	e.sim.SetFailure(Failure{Count: 5})
	e.sim.SetFailure(Failure{})
	wantHook(t, e.deliver("jetway", "d-2", "resource.updated", testResource()), http.StatusOK, "")
}

func TestWebhookFailureUntil(t *testing.T) {
	t.Parallel()
	e := newHookEnv(t)
	e.sim.SetFailure(Failure{Status: http.StatusTooManyRequests, Until: e.clock.Now().Add(10 * time.Second), RetryAfter: 3 * time.Second})
	for i := 0; i < 3; i++ {
		a := e.deliver("jetway", "d-1", "resource.deleted", testResource())
		wantHook(t, a, http.StatusTooManyRequests, "webhook_failure_injected")
		if got := a.header.Get("Retry-After"); got != "3" {
			t.Fatalf("Retry-After = %q, want 3", got)
		}
		e.clock.Advance(3 * time.Second)
	}
	e.clock.Advance(time.Second) // now exactly Until: over
	wantHook(t, e.deliver("jetway", "d-1", "resource.deleted", testResource()), http.StatusOK, "")
	if f := e.sim.Failure(); f != (Failure{}) {
		t.Fatalf("failure in force after Until = %+v, want off", f)
	}
	wantHookStats(t, e.sim, 1, 0, 3)

	// Count and Until together: whichever ends first.
	e.sim.SetFailure(Failure{Count: 5, Until: e.clock.Now().Add(time.Minute)})
	wantHook(t, e.deliver("jetway", "d-2", "resource.updated", testResource()), http.StatusServiceUnavailable, "webhook_failure_injected")
	e.clock.Advance(time.Minute)
	wantHook(t, e.deliver("jetway", "d-2", "resource.updated", testResource()), http.StatusOK, "")
	e.sim.SetFailure(Failure{Count: 1, Until: e.clock.Now().Add(time.Minute)})
	wantHook(t, e.deliver("jetway", "d-3", "resource.updated", testResource()), http.StatusServiceUnavailable, "webhook_failure_injected")
	wantHook(t, e.deliver("jetway", "d-3", "resource.updated", testResource()), http.StatusOK, "")
}

func TestWebhookFailureValidate(t *testing.T) {
	for _, tc := range []struct {
		f   Failure
		bad string
	}{
		{Failure{}, ""},
		{Failure{Status: 429, Count: 1, RetryAfter: time.Second}, ""},
		{Failure{Status: 200, Count: 1}, "status"},
		{Failure{Status: 600, Count: 1}, "status"},
		{Failure{Count: -1}, "count"},
		{Failure{Count: 1, RetryAfter: -time.Second}, "retry_after"},
	} {
		err := tc.f.Validate()
		if (err == nil) != (tc.bad == "") || (err != nil && !strings.Contains(err.Error(), tc.bad)) {
			t.Errorf("Validate(%+v) = %v, want %q", tc.f, err, tc.bad)
		}
	}
	defer func() {
		if recover() == nil {
			t.Fatal("SetWebhookFailure accepted an invalid failure")
		}
	}()
	New(Options{}).SetFailure(Failure{Status: 302, Count: 1})
}

func TestWebhookControl(t *testing.T) {
	t.Parallel()
	e := newHookEnv(t)
	for _, c := range []struct{ method, path, body string }{
		{"GET", "/flysim/v1/webhooks", ""},
		{"GET", "/flysim/v1/webhook-failure", ""},
		{"PUT", "/flysim/v1/webhook-failure", `{"count":1}`},
	} {
		if code, _ := rawDo(t, e, c.method, c.path, c.body, ""); code != http.StatusUnauthorized {
			t.Fatalf("%s %s without token = %d, want 401", c.method, c.path, code)
		}
		if code, _ := rawDo(t, e, c.method, c.path, c.body, "wrong-token"); code != http.StatusUnauthorized {
			t.Fatalf("%s %s with a wrong token = %d, want 401", c.method, c.path, code)
		}
	}
	if e.sim.Failure() != (Failure{}) {
		t.Fatal("an unauthorized PUT changed the webhook failure")
	}

	// Empty: a list, not null.
	code, raw := rawDo(t, e, "GET", "/flysim/v1/webhooks", "", testToken)
	if want := `{"deliveries":[],"accepted":0,"rejected":0,"failed_on_purpose":0,"recent_rejections":[]}`; code != 200 || string(raw) != want {
		t.Fatalf("GET webhooks = %d %s, want %s", code, raw, want)
	}

	until := e.clock.Now().Add(time.Hour)
	code, raw = rawDo(t, e, "PUT", "/flysim/v1/webhook-failure",
		`{"status":502,"count":1,"until":"`+until.Format(time.RFC3339)+`","retry_after":"4s"}`, testToken)
	want := `{"status":502,"count":1,"until":"` + until.Format(time.RFC3339) + `","retry_after":"4s"}`
	if code != 200 || string(raw) != want {
		t.Fatalf("PUT webhook-failure = %d %s, want %s", code, raw, want)
	}
	if code, raw := rawDo(t, e, "GET", "/flysim/v1/webhook-failure", "", testToken); code != 200 || string(raw) != want {
		t.Fatalf("GET webhook-failure = %d %s, want %s", code, raw, want)
	}
	a := e.deliver("jetway", "d-1", "resource.created", testResource())
	wantHook(t, a, http.StatusBadGateway, "webhook_failure_injected")
	if a.header.Get("Retry-After") != "4" {
		t.Fatalf("Retry-After = %q, want 4", a.header.Get("Retry-After"))
	}
	off := `{"status":0,"count":0,"until":"","retry_after":"0s"}`
	if code, raw := rawDo(t, e, "GET", "/flysim/v1/webhook-failure", "", testToken); code != 200 || string(raw) != off {
		t.Fatalf("GET webhook-failure after its count = %d %s, want %s", code, raw, off)
	}
	wantHook(t, e.deliver("jetway", "d-1", "resource.created", testResource()), http.StatusOK, "")

	for _, bad := range []string{
		``, `{"status":200,"count":1}`, `{"count":-1}`, `{"retry_after":"soon"}`, `{"until":"tomorrow"}`,
		`{"retry_after":"-1s","count":1}`, `{"count":1,"colour":"red"}`, `{"count":1}{}`,
	} {
		if code, raw := rawDo(t, e, "PUT", "/flysim/v1/webhook-failure", bad, testToken); code != http.StatusBadRequest {
			t.Errorf("PUT webhook-failure %s = %d %s, want 400", bad, code, raw)
		}
	}
	// PUT {} turns it off.
	e.sim.SetFailure(Failure{Count: 3})
	if code, raw := rawDo(t, e, "PUT", "/flysim/v1/webhook-failure", `{}`, testToken); code != 200 || string(raw) != off {
		t.Fatalf("PUT {} = %d %s, want %s", code, raw, off)
	}
	for _, c := range []struct{ method, path string }{
		{"POST", "/flysim/v1/webhooks"}, {"DELETE", "/flysim/v1/webhook-failure"},
	} {
		if code, _ := rawDo(t, e, c.method, c.path, "", testToken); code != http.StatusMethodNotAllowed {
			t.Errorf("%s %s = %d, want 405", c.method, c.path, code)
		}
	}

	code, raw = rawDo(t, e, "GET", "/flysim/v1/webhooks", "", testToken)
	var got webhooksJSON
	if err := flysimtest.UnmarshalStrict(raw, &got); code != 200 || err != nil {
		t.Fatalf("GET webhooks = %d %s (%v)", code, raw, err)
	}
	if len(got.Deliveries) != 1 || got.Accepted != 1 || got.FailedOnPurpose != 1 || got.Rejected != 0 {
		t.Fatalf("GET webhooks = %s", raw)
	}
	d := got.Deliveries[0]
	if d.DeliveryID != "d-1" || d.Provider != "jetway" || d.Action != "resource.created" || d.ResourceID != "ext-1" ||
		d.Resource["status"] != "ready" || !d.ReceivedAt.Equal(e.clock.Now()) || d.Duplicate {
		t.Fatalf("delivery over HTTP = %+v", d)
	}
}
