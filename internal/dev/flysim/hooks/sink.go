package hooks

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/jetway-dev/jetway/internal/dev/flysign"
	"github.com/jetway-dev/jetway/internal/dev/flysim/internal/respond"
)

// PathPrefix is where Fly's webhook URLs live; a provider's is
// PathPrefix + its name.
const PathPrefix = "/api/hooks/extensions/"

// Options configures a Sink.
type Options struct {
	// Secret is the shared secret providers sign their webhooks with.
	// Empty: every webhook is answered 503.
	Secret string
	// Now is the clock timestamps are held to and deliveries stamped with.
	// Default time.Now.
	Now func() time.Time
}

// Delivery is one webhook the sink accepted.
type Delivery struct {
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

// maxRecentRejections bounds the rejections GET /flysim/v1/webhooks shows.
const maxRecentRejections = 20

// rejection is a delivery the sink refused, kept for GET
// /flysim/v1/webhooks so whoever debugs a notifier can see why.
type rejection struct {
	At       time.Time `json:"at"`
	Provider string    `json:"provider"`
	Status   int       `json:"status"`
	Error    string    `json:"error"`
	Message  string    `json:"message"`
}

// Sink is Fly's webhook endpoint. It has its own lock: deliveries never
// wait on another simulator's state.
type Sink struct {
	secret []byte // fixed at New; empty means misconfigured (503)
	now    func() time.Time

	mu         sync.Mutex
	deliveries []Delivery
	seen       map[string]bool      // provider + "\x00" + delivery_id of accepted deliveries
	nonces     map[string]time.Time // nonce → until when its reuse is a replay
	failure    Failure
	accepted   int
	rejected   int
	failed     int // failed on purpose
	recent     []rejection
}

// New returns a Sink.
func New(opts Options) *Sink {
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	return &Sink{
		secret: []byte(opts.Secret),
		now:    func() time.Time { return now().UTC() },
		seen:   map[string]bool{},
		nonces: map[string]time.Time{},
	}
}

// Register mounts the webhook endpoint on mux.
func (h *Sink) Register(mux *http.ServeMux) {
	mux.HandleFunc("POST "+PathPrefix+"{provider}", func(w http.ResponseWriter, r *http.Request) {
		respond.Write(w, h.receive(r))
	})
	mux.HandleFunc(PathPrefix+"{provider}", func(w http.ResponseWriter, r *http.Request) {
		rp := webhookError(http.StatusMethodNotAllowed, "method_not_allowed",
			"Fly's webhook endpoint only takes POST, not "+r.Method+".")
		rp.Header = http.Header{"Allow": {http.MethodPost}}
		respond.Write(w, rp)
	})
}

// webhookError is the error body of the webhook endpoint: a stable code and
// a sentence, as Jetway's gateway answers Fly.
func webhookError(code int, errCode, message string) respond.Reply {
	return respond.JSON(code, map[string]string{"error": errCode, "message": message})
}

// receive checks, in order: a secret is configured (503); the body is JSON
// (415) and not too large (413); the signature, then the signed params:
// present, the url is this endpoint and the timestamp within
// flysign.MaxSkew (401); the body has what a webhook needs (400); the
// nonce is fresh (401). Only then does an injected failure apply, and then
// the delivery is recorded.
func (h *Sink) receive(r *http.Request) respond.Reply {
	provider := r.PathValue("provider")
	reject := func(code int, errCode, message string) respond.Reply {
		h.mu.Lock()
		h.rejectedLocked(rejection{At: h.now(), Provider: provider, Status: code, Error: errCode, Message: message})
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
	body, err := io.ReadAll(io.LimitReader(r.Body, respond.MaxBody+1))
	if err != nil {
		return reject(http.StatusBadRequest, "invalid_body", "The request body could not be read.")
	}
	if len(body) > respond.MaxBody {
		return reject(http.StatusRequestEntityTooLarge, "body_too_large", "The request body is larger than 1 MiB.")
	}

	// The URL the sender should have signed is the one it posted to; the
	// escaped path parses back to exactly r.URL.Path.
	v := flysign.Verifier{Secret: h.secret, Now: h.now}
	p, err := v.VerifyJSON(body, r.Header.Get("X-Signature"), "http://"+r.Host+r.URL.EscapedPath())
	var se *flysign.Error
	switch {
	case errors.As(err, &se):
		return reject(http.StatusUnauthorized, se.Code, se.Message)
	case errors.Is(err, flysign.ErrNotObject):
		return reject(http.StatusBadRequest, "invalid_json", "The request body must be a JSON object.")
	case err != nil: // the sink's own mistake
		return reject(http.StatusInternalServerError, "internal", "flysim: "+err.Error())
	}
	in, err := parseWebhookBody(body)
	if err != nil {
		return reject(http.StatusBadRequest, "invalid_webhook", err.Error())
	}

	now := h.now()
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.rememberNonceLocked(p.Nonce, p.Timestamp, now) {
		const msg = "The request nonce was already used; every request needs a new nonce."
		h.rejectedLocked(rejection{At: now, Provider: provider, Status: http.StatusUnauthorized, Error: flysign.CodeReplayedNonce, Message: msg})
		return webhookError(http.StatusUnauthorized, flysign.CodeReplayedNonce, msg)
	}
	if status, retryAfter, failing := h.failLocked(now); failing {
		h.failed++
		rp := webhookError(status, "webhook_failure_injected",
			"flysim is failing webhooks on purpose (webhook-failure is set); retry later with a fresh signature.")
		if retryAfter > 0 {
			secs := int64((retryAfter + time.Second - 1) / time.Second)
			rp.Header = http.Header{"Retry-After": {strconv.FormatInt(secs, 10)}}
		}
		return rp
	}
	key := provider + "\x00" + in.deliveryID
	h.deliveries = append(h.deliveries, Delivery{
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
	return respond.OK()
}

func (h *Sink) rejectedLocked(rj rejection) {
	h.rejected++
	h.recent = append(h.recent, rj)
	if n := len(h.recent); n > maxRecentRejections {
		h.recent = append(h.recent[:0:0], h.recent[n-maxRecentRejections:]...)
	}
}

// rememberNonceLocked records nonce and reports whether it was fresh. A
// nonce is kept as long as a request carrying it could pass the timestamp
// check; expired ones are dropped.
func (h *Sink) rememberNonceLocked(nonce string, ts, now time.Time) bool {
	if until, ok := h.nonces[nonce]; ok && now.Before(until) {
		return false
	}
	for n, until := range h.nonces {
		if !now.Before(until) {
			delete(h.nonces, n)
		}
	}
	until := now.Add(flysign.MaxSkew)
	if last := ts.Add(flysign.MaxSkew); last.After(until) {
		until = last
	}
	h.nonces[nonce] = until
	return true
}

// Deliveries returns every accepted delivery, oldest first, as deep copies.
func (h *Sink) Deliveries() []Delivery {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]Delivery, len(h.deliveries))
	for i, d := range h.deliveries {
		d.Resource = copyJSONObject(d.Resource)
		out[i] = d
	}
	return out
}

// Stats counts webhook POSTs since New: accepted (and recorded), rejected
// (401, 400, 413, 415, and 503 when no secret is configured) and failed on
// purpose (see SetFailure).
func (h *Sink) Stats() (accepted, rejected, failedOnPurpose int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.accepted, h.rejected, h.failed
}
