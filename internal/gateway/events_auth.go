package gateway

import (
	"crypto/subtle"
	"net/http"
	"strings"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2/event"

	"github.com/jetway-dev/jetway/internal/signing"
)

// How machine events prove they are Fly's (EventSettings.Auth).
const (
	// EventsAuthNone asks nothing: Fly's page documents no signature for
	// machine events, and an event only asks for a rate-limited look.
	EventsAuthNone = "none"
	// EventsAuthToken wants a shared token, as "Authorization: Bearer
	// <token>" or a token query parameter (an events URL registered with
	// Fly can carry it), for when Fly agrees one.
	EventsAuthToken = "token"
	// EventsAuthHMAC wants X-Signature as Jetway's contract defines it
	// (signing.EventMessage), a time within the window and a ce-id not
	// seen before, for when Fly agrees to sign events.
	EventsAuthHMAC = "hmac"
)

// EventSettings configure POST /extensions/events.
type EventSettings struct {
	// Auth is EventsAuthNone (default), EventsAuthToken or EventsAuthHMAC.
	Auth string
	// Token is the shared token of EventsAuthToken.
	Token []byte
	// MinInterval is the least time between two looks at Fly that one
	// extension's events ask this replica for; the events in between fold
	// into one look at the end of it. Default 1 s.
	MinInterval time.Duration
}

// eventAuthentic checks an event as EventSettings.Auth asks. On failure it
// has already answered, and also for an HMAC-checked event seen before
// (202: a duplicate is harmless and Fly must not retry it).
func (s *Server) eventAuthentic(w http.ResponseWriter, r *http.Request, ev *cloudevents.Event, body []byte) bool {
	switch s.cfg.Events.Auth {
	case EventsAuthToken:
		if !tokenMatches(r, s.cfg.Events.Token) {
			s.reject(w, r, &signing.Error{Code: "bad_token", Message: "The event carries no valid token (Authorization: Bearer, or the token query parameter)."})
			return false
		}
		return true
	case EventsAuthHMAC:
		return s.eventSigned(w, r, ev, body)
	default:
		return true
	}
}

// tokenMatches compares in constant time; an empty configured token
// matches nothing.
func tokenMatches(r *http.Request, want []byte) bool {
	got := r.URL.Query().Get("token")
	if auth := r.Header.Get("Authorization"); strings.HasPrefix(auth, "Bearer ") {
		got = strings.TrimPrefix(auth, "Bearer ")
	}
	return len(want) > 0 && subtle.ConstantTimeCompare([]byte(got), want) == 1
}

// eventSigned is the HMAC check: signature, time window, and the ce-id
// remembered in the nonce store.
func (s *Server) eventSigned(w http.ResponseWriter, r *http.Request, ev *cloudevents.Event, body []byte) bool {
	message := body
	if r.Header.Get("ce-id") != "" { // binary mode: attributes in headers
		message = signing.EventMessage(ev.ID(), ev.Type(), ev.Source(), r.Header.Get("ce-time"), body)
	}
	if !signing.Valid(s.cfg.Verifier.Secrets, message, r.Header.Get("X-Signature")) {
		s.reject(w, r, &signing.Error{Code: signing.CodeBadSignature, Message: "The X-Signature header is not a valid HMAC-SHA256 of the event with the shared secret."})
		return false
	}
	now := time.Now()
	skew := s.cfg.Verifier.MaxSkew
	if skew <= 0 {
		skew = signing.DefaultMaxSkew
	}
	if ev.Time().IsZero() || ev.Time().Sub(now) > skew || now.Sub(ev.Time()) > skew {
		s.reject(w, r, &signing.Error{Code: signing.CodeStaleTimestamp, Message: "The event's time is missing or too far from the provider's clock."})
		return false
	}
	if s.cfg.Verifier.Nonces == nil {
		return true
	}
	fresh, err := s.cfg.Verifier.Nonces.Remember("ce:"+ev.Source()+":"+ev.ID(), now)
	if err != nil {
		s.internalError(w, r, err)
		return false
	}
	if !fresh {
		writeJSON(w, http.StatusAccepted, map[string]string{"status": "duplicate"})
		return false
	}
	return true
}
