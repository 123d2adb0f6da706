package flysim

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/jetway-dev/jetway/internal/signing"
)

// Fly's incoming webhooks: a provider tells Fly about changes to its
// resources by POSTing to https://api.fly.io/api/hooks/extensions/{provider}
// (Fly's extensions docs, "Incoming Webhooks"). The simulator plays Fly's
// side of that so a provider's notifier can be tested end to end.
//
// Fly authenticates these requests by their signature, not by the Machines
// API token: the body is HMAC-SHA256 signed with the webhook secret, the same
// way Fly signs provisioning requests (see internal/signing). Fly's docs fix
// only the outline; the simulator holds the provider to Jetway's contract:
//
//	POST {base}/api/hooks/extensions/{provider}
//	Content-Type: application/json
//	X-Signature: <lowercase hex HMAC-SHA256(webhook secret, raw body)>
//
//	{"timestamp":"<unix seconds, a JSON string>","nonce":"<random>",
//	 "url":"<the URL posted to>","delivery_id":"<same on every retry>",
//	 "action":"resource.created|resource.updated|resource.deleted",
//	 "resource":{"id":"...", ...the provider's GET shape}}
//
// Every retry is signed afresh (new nonce and timestamp) but keeps its
// delivery_id, which is how the simulator marks a delivery a duplicate.
// Where Fly's behaviour is unknown (its answer codes, its retry policy) the
// sink errs on the strict side, as the rest of the simulator does.

const webhookPathPrefix = "/api/hooks/extensions/"

// Webhook actions Fly supports.
var webhookActions = map[string]bool{
	"resource.created": true,
	"resource.updated": true,
	"resource.deleted": true,
}

// maxRecentRejections bounds the rejections GET /flysim/v1/webhooks shows.
const maxRecentRejections = 20

// WebhookDelivery is one webhook the simulator accepted.
type WebhookDelivery struct {
	DeliveryID string         `json:"delivery_id"`
	Provider   string         `json:"provider"` // the {provider} of the URL
	Action     string         `json:"action"`
	ResourceID string         `json:"resource_id"`
	Resource   map[string]any `json:"resource"` // as sent; JSON numbers are float64
	ReceivedAt time.Time      `json:"received_at"`
	// Duplicate is set when an earlier accepted delivery to the same
	// provider had this delivery_id: typically a retry of a delivery that
	// was accepted but whose answer the sender never saw.
	Duplicate bool `json:"duplicate"`
}

// WebhookFailure makes the sink fail deliveries on purpose, as an outage
// of Fly's webhook endpoint would. A failing delivery is still verified
// first (a bad signature is still 401, a replayed nonce still a replay, and
// its nonce is used up), then answered Status without being recorded.
//
// Count alone fails the next Count deliveries; Until alone fails every
// delivery until then (by Options.Now); both fail the next Count deliveries
// but none after Until. Neither (the zero value) is off.
type WebhookFailure struct {
	// Status is the answer, a 4xx or 5xx code; 0 means 503.
	Status int
	// Count is how many more deliveries fail.
	Count int
	// Until is when failing stops.
	Until time.Time
	// RetryAfter, when positive, is sent as a Retry-After header in whole
	// seconds, rounded up.
	RetryAfter time.Duration
}

// Validate reports the first thing wrong with f.
func (f WebhookFailure) Validate() error {
	switch {
	case f.Status != 0 && (f.Status < 400 || f.Status > 599):
		return fmt.Errorf("status %d is not a 4xx or 5xx code", f.Status)
	case f.Count < 0:
		return errors.New("count must not be negative")
	case f.RetryAfter < 0:
		return errors.New("retry_after must not be negative")
	}
	return nil
}

func (f WebhookFailure) off() bool { return f.Count == 0 && f.Until.IsZero() }

// webhookRejection is a delivery the sink refused, kept for
// GET /flysim/v1/webhooks so whoever debugs a notifier can see why.
type webhookRejection struct {
	At       time.Time `json:"at"`
	Provider string    `json:"provider"`
	Status   int       `json:"status"`
	Error    string    `json:"error"`
	Message  string    `json:"message"`
}

// webhookSink is Fly's webhook endpoint. It has its own lock: deliveries
// never wait on the machine state behind Server.mu.
type webhookSink struct {
	secret []byte // fixed at New; empty means misconfigured (503)

	mu         sync.Mutex
	deliveries []WebhookDelivery
	seen       map[string]bool      // provider + "\x00" + delivery_id of accepted deliveries
	nonces     map[string]time.Time // nonce → until when its reuse is a replay
	failure    WebhookFailure
	accepted   int
	rejected   int
	failed     int // failed on purpose
	recent     []webhookRejection
}

func newWebhookSink(secret string) *webhookSink {
	return &webhookSink{
		secret: []byte(secret),
		seen:   map[string]bool{},
		nonces: map[string]time.Time{},
	}
}

func (s *Server) webhookRoutes() {
	s.hooks = newWebhookSink(s.opts.WebhookSecret)
	s.mux.HandleFunc("POST "+webhookPathPrefix+"{provider}", func(w http.ResponseWriter, r *http.Request) {
		writeReply(w, s.receiveWebhook(r))
	})
	s.mux.HandleFunc(webhookPathPrefix+"{provider}", func(w http.ResponseWriter, r *http.Request) {
		rp := webhookError(http.StatusMethodNotAllowed, "method_not_allowed",
			"Fly's webhook endpoint only takes POST, not "+r.Method+".")
		rp.header = http.Header{"Allow": {http.MethodPost}}
		writeReply(w, rp)
	})
}

// webhookError is the error body of the webhook endpoint: a stable code and
// a sentence, as Jetway's gateway answers Fly.
func webhookError(code int, errCode, message string) reply {
	return jsonReply(code, map[string]string{"error": errCode, "message": message})
}

// receiveWebhook checks, in order: a secret is configured (503); the body
// is JSON (415) and not too large (413); the signature (401); the signed
// params are present, the url is this endpoint and the timestamp is within
// signing.DefaultMaxSkew (401); the body has what a webhook needs (400); the
// nonce is fresh (401). Only then does an injected failure apply, and then
// the delivery is recorded.
func (s *Server) receiveWebhook(r *http.Request) reply {
	h := s.hooks
	provider := r.PathValue("provider")
	reject := func(code int, errCode, message string) reply {
		h.mu.Lock()
		h.rejectedLocked(webhookRejection{At: s.now(), Provider: provider, Status: code, Error: errCode, Message: message})
		h.mu.Unlock()
		return webhookError(code, errCode, message)
	}
	if len(h.secret) == 0 {
		return reject(http.StatusServiceUnavailable, "webhooks_not_configured",
			"flysim has no webhook secret (Options.WebhookSecret, --webhook-secret), so it cannot verify webhooks.")
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		return reject(http.StatusUnsupportedMediaType, "unsupported_media_type",
			fmt.Sprintf("Fly's webhook endpoint takes application/json, not %q.", r.Header.Get("Content-Type")))
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return reject(http.StatusBadRequest, "invalid_body", "The request body could not be read.")
	}
	if len(body) > maxBody {
		return reject(http.StatusRequestEntityTooLarge, "body_too_large", "The request body is larger than 1 MiB.")
	}

	sig := r.Header.Get("X-Signature")
	v := signing.Verifier{Secrets: [][]byte{h.secret}, Nonces: nil, Now: s.opts.Now}
	// Signature first, before parsing: an unsigned caller learns nothing
	// about what the body should hold.
	if !signing.Valid(v.Secrets, body, sig) {
		return s.rejectSigned(reject, v.Verify(body, sig, signing.Params{}, ""))
	}
	p, err := signing.ParamsFromJSON(body)
	if err != nil {
		var se *signing.Error
		if errors.As(err, &se) {
			return s.rejectSigned(reject, se)
		}
		return reject(http.StatusBadRequest, "invalid_json", "The request body must be a JSON object.")
	}
	// The URL the sender should have signed is the one it posted to; the
	// escaped path parses back to exactly r.URL.Path.
	if err := v.Verify(body, sig, p, "http://"+r.Host+r.URL.EscapedPath()); err != nil {
		return s.rejectSigned(reject, err)
	}
	in, err := parseWebhookBody(body)
	if err != nil {
		return reject(http.StatusBadRequest, "invalid_webhook", err.Error())
	}

	now := s.now()
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.rememberNonceLocked(p.Nonce, p.Timestamp, now) {
		const msg = "The request nonce was already used; every request needs a new nonce."
		h.rejectedLocked(webhookRejection{At: now, Provider: provider, Status: http.StatusUnauthorized, Error: signing.CodeReplayedNonce, Message: msg})
		return webhookError(http.StatusUnauthorized, signing.CodeReplayedNonce, msg)
	}
	if status, retryAfter, failing := h.failLocked(now); failing {
		h.failed++
		rp := webhookError(status, "webhook_failure_injected",
			"flysim is failing webhooks on purpose (webhook-failure is set); retry later with a fresh signature.")
		if retryAfter > 0 {
			secs := int64((retryAfter + time.Second - 1) / time.Second)
			rp.header = http.Header{"Retry-After": {strconv.FormatInt(secs, 10)}}
		}
		return rp
	}
	key := provider + "\x00" + in.deliveryID
	h.deliveries = append(h.deliveries, WebhookDelivery{
		DeliveryID: in.deliveryID,
		Provider:   provider,
		Action:     in.action,
		ResourceID: in.resourceID,
		Resource:   in.resource,
		ReceivedAt: now,
		Duplicate:  h.seen[key],
	})
	h.seen[key] = true
	h.accepted++
	return okReply()
}

// rejectSigned answers a failed verification: 401 with its code, or 500 if
// the verifier itself failed (which would be a simulator bug).
func (s *Server) rejectSigned(reject func(int, string, string) reply, err error) reply {
	var se *signing.Error
	if errors.As(err, &se) {
		return reject(http.StatusUnauthorized, se.Code, se.Message)
	}
	if err == nil { // Valid said no, so Verify cannot say yes
		err = errors.New("signature check disagreed with itself")
	}
	return reject(http.StatusInternalServerError, "internal", "flysim: "+err.Error())
}

func (h *webhookSink) rejectedLocked(rj webhookRejection) {
	h.rejected++
	h.recent = append(h.recent, rj)
	if n := len(h.recent); n > maxRecentRejections {
		h.recent = append(h.recent[:0:0], h.recent[n-maxRecentRejections:]...)
	}
}

// rememberNonceLocked records nonce and reports whether it was fresh. A
// nonce is kept as long as a request carrying it could pass the timestamp
// check (as signing.Verifier keeps its nonces); expired ones are dropped.
func (h *webhookSink) rememberNonceLocked(nonce string, ts, now time.Time) bool {
	if until, ok := h.nonces[nonce]; ok && now.Before(until) {
		return false
	}
	for n, until := range h.nonces {
		if !now.Before(until) {
			delete(h.nonces, n)
		}
	}
	until := now.Add(signing.DefaultMaxSkew)
	if last := ts.Add(signing.DefaultMaxSkew); last.After(until) {
		until = last
	}
	h.nonces[nonce] = until
	return true
}

// failLocked decides whether this delivery fails on purpose, using up one
// of Count if so, and turns the failure off once it is over.
func (h *webhookSink) failLocked(now time.Time) (status int, retryAfter time.Duration, failing bool) {
	f := &h.failure
	if !f.Until.IsZero() && !now.Before(f.Until) {
		*f = WebhookFailure{}
	}
	if f.off() {
		*f = WebhookFailure{}
		return 0, 0, false
	}
	status, retryAfter = f.Status, f.RetryAfter
	if status == 0 {
		status = http.StatusServiceUnavailable
	}
	if f.Count > 0 {
		f.Count--
		if f.Count == 0 {
			*f = WebhookFailure{} // Count was the limit, with or without Until
		}
	}
	return status, retryAfter, true
}

// webhookBody is what the sink needs from a webhook besides the signed
// params.
type webhookBody struct {
	deliveryID, action, resourceID string
	resource                       map[string]any
}

// parseWebhookBody checks the body against the contract. The signed params
// (nonce, url) were checked already; the timestamp is held to the contract's
// form, a JSON string as in Fly's own example.
func parseWebhookBody(body []byte) (webhookBody, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(body, &fields); err != nil {
		return webhookBody{}, errors.New("The request body must be a JSON object.")
	}
	present := func(name string) (json.RawMessage, bool) {
		raw, ok := fields[name]
		return raw, ok && !bytes.Equal(bytes.TrimSpace(raw), []byte("null"))
	}
	str := func(name string) (string, error) {
		raw, ok := present(name)
		if !ok {
			return "", fmt.Errorf("The webhook has no %q.", name)
		}
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", fmt.Errorf("The %q field must be a string.", name)
		}
		if s == "" {
			return "", fmt.Errorf("The %q field must not be empty.", name)
		}
		return s, nil
	}
	var out webhookBody
	if raw, _ := present("timestamp"); len(raw) > 0 && bytes.TrimSpace(raw)[0] != '"' {
		return out, errors.New(`The "timestamp" field must be a JSON string of unix seconds, as in Fly's example ("1693513586").`)
	}
	var err error
	if out.deliveryID, err = str("delivery_id"); err != nil {
		return out, err
	}
	if out.action, err = str("action"); err != nil {
		return out, err
	}
	if !webhookActions[out.action] {
		return out, fmt.Errorf("The action %q is not one Fly supports (resource.created, resource.updated, resource.deleted).", out.action)
	}
	raw, ok := present("resource")
	if !ok {
		return out, errors.New(`The webhook has no "resource".`)
	}
	if err := json.Unmarshal(raw, &out.resource); err != nil {
		return out, errors.New(`The "resource" field must be a JSON object.`)
	}
	id, ok := out.resource["id"].(string)
	if !ok || id == "" {
		return out, errors.New(`The "resource" must have a non-empty string "id".`)
	}
	out.resourceID = id
	return out, nil
}

// WebhookDeliveries returns every accepted delivery, oldest first, as deep
// copies.
func (s *Server) WebhookDeliveries() []WebhookDelivery {
	h := s.hooks
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]WebhookDelivery, len(h.deliveries))
	for i, d := range h.deliveries {
		d.Resource = copyJSONObject(d.Resource)
		out[i] = d
	}
	return out
}

// SetWebhookFailure replaces the webhook failure in force, effective for
// the next delivery; the zero value turns it off. It panics if f is invalid
// (see Validate): that is a bug in the caller.
func (s *Server) SetWebhookFailure(f WebhookFailure) {
	if err := f.Validate(); err != nil {
		panic("flysim: invalid webhook failure: " + err.Error())
	}
	h := s.hooks
	h.mu.Lock()
	defer h.mu.Unlock()
	h.failure = f
}

// WebhookFailure returns the webhook failure in force, with the deliveries
// it still has to fail; the zero value once it is over.
func (s *Server) WebhookFailure() WebhookFailure {
	h := s.hooks
	h.mu.Lock()
	defer h.mu.Unlock()
	if f := h.failure; !f.Until.IsZero() && !s.now().Before(f.Until) {
		h.failure = WebhookFailure{}
	}
	return h.failure
}

// WebhookStats counts webhook POSTs since New: accepted (and recorded),
// rejected (401, 400, 413, 415, and 503 when no secret is configured) and
// failed on purpose (see SetWebhookFailure).
func (s *Server) WebhookStats() (accepted, rejected, failedOnPurpose int) {
	h := s.hooks
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.accepted, h.rejected, h.failed
}

// copyJSONObject deep-copies what encoding/json decodes into an any.
func copyJSONObject(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = copyJSONValue(v)
	}
	return out
}

func copyJSONValue(v any) any {
	switch v := v.(type) {
	case map[string]any:
		return copyJSONObject(v)
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = copyJSONValue(e)
		}
		return out
	default: // string, float64, bool, nil, json.Number: immutable
		return v
	}
}
