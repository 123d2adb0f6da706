package flysign

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// MaxSkew is how far a signed timestamp may be from the receiver's clock,
// either way. Fly's text names no window (research/fly-protocol.md §1.3,
// "Replay window / clock-skew tolerance: NOT FOUND"); 300 s is Jetway's
// contract, DESIGN.md line 91 ("a timestamp more than 300 s off"), after
// fly-protocol.md §1.5 step 5. A receiver that remembers nonces must keep
// each one at least this long past its timestamp.
const MaxSkew = 300 * time.Second

// Rejection codes, the "error" field of a 401 answer (DESIGN.md line 95:
// `{"error": "<stable_code>", "message": "<readable sentence>"}`).
const (
	CodeMissingSignature = "missing_signature"
	CodeBadSignature     = "bad_signature"
	CodeMissingParam     = "missing_signed_params"
	CodeStaleTimestamp   = "stale_timestamp"
	CodeReplayedNonce    = "replayed_nonce"
	CodeURLMismatch      = "url_mismatch"
)

// Error is a request that fails verification. Message is a sentence fit
// to show the sender; it never holds the secret or the expected MAC.
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

func reject(code, message string) *Error { return &Error{Code: code, Message: message} }

// Verifier checks signed requests under one shared secret.
type Verifier struct {
	Secret []byte
	// Now is the clock the timestamp is held to; nil means time.Now.
	Now func() time.Time
}

// VerifyJSON checks a signed POST or PATCH: the signature is present and
// is the HMAC of the raw body, checked before the body is parsed so that
// an unsigned caller learns nothing about what it should hold; the body is
// a JSON object (ErrNotObject otherwise); timestamp, nonce and url are
// there; url is expectedURL; the timestamp is within MaxSkew. It returns
// the params so the caller can refuse a replayed nonce, which takes memory
// this package does not keep.
//
// A failed check is an *Error; any other error is the caller's mistake (no
// secret, an expectedURL that is not absolute).
func (v Verifier) VerifyJSON(body []byte, signature, expectedURL string) (Params, error) {
	if err := v.checkSignature(body, signature); err != nil {
		return Params{}, err
	}
	p, err := ParamsFromJSON(body)
	if err != nil {
		return Params{}, err
	}
	if missing := missingParams(p); len(missing) > 0 {
		return Params{}, reject(CodeMissingParam, fmt.Sprintf("The signed request is missing %s.", strings.Join(missing, ", ")))
	}
	if err := checkURL(p.URL, expectedURL); err != nil {
		return Params{}, err
	}
	now := time.Now()
	if v.Now != nil {
		now = v.Now()
	}
	if off := now.Sub(p.Timestamp); off.Abs() > MaxSkew {
		dir := "in the past"
		if off < 0 {
			dir = "in the future"
		}
		return Params{}, reject(CodeStaleTimestamp, fmt.Sprintf(
			"The request timestamp is %s %s; it must be within %s of the server clock.",
			off.Abs().Round(time.Second), dir, MaxSkew))
	}
	return p, nil
}

func (v Verifier) checkSignature(message []byte, signature string) error {
	if strings.TrimSpace(signature) == "" {
		return reject(CodeMissingSignature, "The request has no X-Signature header.")
	}
	if len(v.Secret) == 0 {
		return errors.New("verify request: no signing secret")
	}
	if !Valid(v.Secret, message, signature) {
		return reject(CodeBadSignature, "The X-Signature header is not a valid HMAC-SHA256 of the request with the shared secret.")
	}
	return nil
}

func missingParams(p Params) []string {
	var missing []string
	if !p.HasTimestamp {
		missing = append(missing, "timestamp")
	}
	if p.Nonce == "" {
		missing = append(missing, "nonce")
	}
	if p.URL == "" {
		missing = append(missing, "url")
	}
	return missing
}

// checkURL holds the signed url to the endpoint that received it, the check
// the spec recommends above all (line 46), so a request signed for another
// provider or path cannot be replayed here. Scheme and host compare without
// case and with default ports made explicit, the path exactly; the signed
// url's query and fragment do not matter.
func checkURL(signed, expected string) error {
	want, err := url.Parse(expected)
	if err != nil || want.Scheme == "" || want.Host == "" {
		return fmt.Errorf("verify request: expected URL %q is not an absolute URL", expected)
	}
	shown := signed
	if len(shown) > 200 { // the sender's text: echo only the start of it
		shown = shown[:200] + "…"
	}
	mismatch := reject(CodeURLMismatch, fmt.Sprintf("The signed url %q is not this endpoint (%s).",
		shown, want.Scheme+"://"+want.Host+want.EscapedPath()))
	got, err := url.Parse(signed)
	if err != nil ||
		!strings.EqualFold(got.Scheme, want.Scheme) ||
		!strings.EqualFold(hostPort(got), hostPort(want)) ||
		got.Path != want.Path {
		return mismatch
	}
	return nil
}

// hostPort is u's host with the scheme's default port made explicit.
func hostPort(u *url.URL) string {
	if u.Port() != "" {
		return u.Host
	}
	switch strings.ToLower(u.Scheme) {
	case "http":
		return u.Host + ":80"
	case "https":
		return u.Host + ":443"
	}
	return u.Host
}
