package conformance

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// The page, "Incoming Webhooks": the provider POSTs application/json to
// Fly, "signed the same way as we sign provisioning requests but with a
// different shared secret", with "a UNIX timestamp, action string and
// resource object"; actions resource.updated, resource.deleted and
// resource.created. The suite plays Fly's endpoint with a sink that
// answers 200 to everything and records what came.

var webhookActions = []string{"resource.created", "resource.updated", "resource.deleted"}

// delivery is one webhook as the sink received it.
type delivery struct {
	body      []byte
	signature string
}

type sink struct {
	srv *http.Server
	mu  sync.Mutex
	got []delivery
}

func startSink(addr string) (*sink, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("webhook sink: %w", err)
	}
	sk := &sink{}
	sk.srv = &http.Server{Handler: sk, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := sk.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			_ = err // the checks see no deliveries and say so
		}
	}()
	return sk, nil
}

func (sk *sink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, "read body", http.StatusBadRequest)
		return
	}
	sk.mu.Lock()
	sk.got = append(sk.got, delivery{body: b, signature: r.Header.Get(signatureHeader)})
	sk.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(`{"ok":true}`))
}

func (sk *sink) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = sk.srv.Shutdown(ctx)
}

// about returns the deliveries whose resource.id is id.
func (sk *sink) about(id string) []delivery {
	sk.mu.Lock()
	defer sk.mu.Unlock()
	var out []delivery
	for _, d := range sk.got {
		var body struct {
			Resource struct {
				ID string `json:"id"`
			} `json:"resource"`
		}
		if json.Unmarshal(d.body, &body) == nil && body.Resource.ID == id {
			out = append(out, d)
		}
	}
	return out
}

func webhookChecks() []check {
	return []check{
		{"webhook.signed", "the provider's webhooks about the resource are signed and well formed", checkWebhookSigned},
	}
}

// judgeWebhook checks one delivery: "" when it keeps the page's rules.
func (s *Suite) judgeWebhook(d delivery) (action, problem string) {
	if d.signature == "" {
		return "", "no X-Signature"
	}
	if !validMAC(s.cfg.WebhookSecret, d.body, d.signature) {
		return "", "X-Signature is not the HMAC-SHA256 of the body with the webhook secret"
	}
	var body map[string]any
	if err := json.Unmarshal(d.body, &body); err != nil {
		return "", "the body is not JSON"
	}
	action, _ = body["action"].(string)
	if !contains(webhookActions, action) {
		return action, fmt.Sprintf("action %q is none of %s", action, strings.Join(webhookActions, ", "))
	}
	switch body["timestamp"].(type) {
	case string, float64:
	default:
		return action, "no timestamp"
	}
	if _, ok := body["resource"].(map[string]any); !ok {
		return action, "no resource object"
	}
	return action, ""
}

// waitWebhook waits until the sink has a delivery about id that want
// accepts, and judges every delivery about id seen by then.
func (s *Suite) waitWebhook(ctx context.Context, id string, want func(action string) bool, timeout time.Duration) Result {
	deadline := time.Now().Add(timeout)
	for {
		var actions []string
		found := false
		for _, d := range s.sink.about(id) {
			action, problem := s.judgeWebhook(d)
			if problem != "" {
				return fail("%s: %s", orDash(action), problem)
			}
			actions = append(actions, action)
			found = found || want(action)
		}
		if found {
			return pass("%d signed: %s", len(actions), tally(actions))
		}
		if time.Now().After(deadline) {
			return fail("none in %s (got %d about the resource: %s)", timeout, len(actions), orDash(tally(actions)))
		}
		if err := sleep(ctx, 200*time.Millisecond); err != nil {
			return fail("%v", err)
		}
	}
}

func checkWebhookSigned(ctx context.Context, s *Suite) Result {
	if s.sink == nil {
		return skip("no webhook sink (--webhook-listen and --webhook-secret)")
	}
	if r, ok := needFixture(s); !ok {
		return r
	}
	return s.waitWebhook(ctx, s.fixture, func(string) bool { return true }, s.cfg.Timeout)
}

func checkWebhookDeleted(ctx context.Context, s *Suite) Result {
	if s.sink == nil {
		return skip("no webhook sink (--webhook-listen and --webhook-secret)")
	}
	if !s.fixtureGone {
		return skip("needs the deletion delete.finishes waits for")
	}
	// Deletion is over, so the notification is due now; a short wait
	// covers a provider that sends it just after.
	res := s.waitWebhook(ctx, s.fixture, func(a string) bool { return a == "resource.deleted" }, min(15*time.Second, s.cfg.Timeout))
	if res.Outcome == Fail && strings.HasPrefix(res.Reason, "none in") {
		return info("no resource.deleted (the page lists removal \"via the provider UI\"; Jetway sends it for every deletion): %s", res.Reason)
	}
	return res
}

// tally is "resource.updated ×3, resource.deleted" in order of first sight.
func tally(actions []string) string {
	counts := map[string]int{}
	var order []string
	for _, a := range actions {
		if counts[a] == 0 {
			order = append(order, a)
		}
		counts[a]++
	}
	parts := make([]string, len(order))
	for i, a := range order {
		parts[i] = a
		if counts[a] > 1 {
			parts[i] += fmt.Sprintf(" ×%d", counts[a])
		}
	}
	return strings.Join(parts, ", ")
}
