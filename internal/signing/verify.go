package signing

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// DefaultMaxSkew is how far a request's timestamp may be from our clock.
const DefaultMaxSkew = 300 * time.Second

// Verifier checks signed requests from Fly.
type Verifier struct {
	// Secrets are the shared secrets currently accepted; list the old and
	// the new one together while rotating.
	Secrets [][]byte
	// MaxSkew bounds |now - timestamp|; zero means DefaultMaxSkew.
	MaxSkew time.Duration
	// Nonces remembers accepted nonces. Nil disables replay protection,
	// which only tests should do.
	Nonces *NonceStore
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	// ReportOnlyUntil, while the clock is before it, turns two checks into
	// reports, for onboarding with Fly: the url match, and parameters sent
	// outside the signed bytes. Such a request is verified as if they
	// passed, and Report hears what would have refused it. The signature,
	// the parameters' presence, the timestamp window and the nonce are
	// always enforced. The zero time is strict.
	ReportOnlyUntil time.Time
	// Report is told each refusal report-only waived; nil drops them.
	Report func(*Error)
}

// ReportOnly reports whether report-only mode is on at now.
func (v *Verifier) ReportOnly(now time.Time) bool { return now.Before(v.ReportOnlyUntil) }

// waive reports err instead of refusing when report-only is on at now,
// and returns the error to refuse with otherwise.
func (v *Verifier) waive(err error, now time.Time) error {
	var se *Error
	if !errors.As(err, &se) || !v.ReportOnly(now) {
		return err
	}
	if v.Report != nil {
		v.Report(se)
	}
	return nil
}

// Verify checks, in this order: the signature is present and valid; the
// timestamp, nonce and url are present; the url is expectedURL; the timestamp
// is within MaxSkew; the nonce is fresh. The nonce is remembered only after
// every other check passed, so unsigned or stale traffic cannot fill the
// store. message is the exact signed bytes (raw body, or raw query string
// without '?'); expectedURL is this request's external URL as Fly sees it.
//
// A rejection is a *Error; any other error is Jetway's own failure
// (unreadable store, no secrets configured, invalid expectedURL).
func (v *Verifier) Verify(message []byte, signature string, p Params, expectedURL string) error {
	if strings.TrimSpace(signature) == "" {
		return reject(CodeMissingSignature, "The request has no X-Signature header.")
	}
	if !hasSecret(v.Secrets) {
		return errors.New("verify request: no signing secrets are configured")
	}
	if !Valid(v.Secrets, message, signature) {
		return reject(CodeBadSignature, "The X-Signature header is not a valid HMAC-SHA256 of the request with the shared secret.")
	}
	if missing := missingParams(p); len(missing) > 0 {
		return reject(CodeMissingParam, fmt.Sprintf("The signed request is missing %s.", strings.Join(missing, ", ")))
	}
	now := time.Now()
	if v.Now != nil {
		now = v.Now()
	}
	if len(p.Unsigned) > 0 {
		unsigned := reject(CodeUnsignedParams, fmt.Sprintf(
			"The signed body is missing %s, sent in the query string instead, which the signature does not cover; send them as body fields.",
			strings.Join(p.Unsigned, ", ")))
		if err := v.waive(unsigned, now); err != nil {
			return err
		}
	}
	if err := v.waive(checkURL(p.URL, expectedURL), now); err != nil {
		return err
	}
	skew := v.maxSkew()
	if off := now.Sub(p.Timestamp); off.Abs() > skew {
		dir := "in the past"
		if off < 0 {
			dir = "in the future"
		}
		return reject(CodeStaleTimestamp, fmt.Sprintf(
			"The request timestamp is %s %s; it must be within %s of the server clock.",
			off.Abs().Round(time.Second), dir, skew))
	}
	if v.Nonces == nil {
		return nil
	}
	// Keep the nonce at least until its timestamp stops being accepted, so
	// a replay is caught even when the store's ttl is shorter than that.
	expiry := now.Add(v.Nonces.ttl)
	if last := p.Timestamp.Add(skew); last.After(expiry) {
		expiry = last
	}
	fresh, err := v.Nonces.rememberUntil(p.Nonce, now, expiry)
	if err != nil {
		return fmt.Errorf("verify request: %w", err)
	}
	if !fresh {
		return Replayed()
	}
	return nil
}

func (v *Verifier) maxSkew() time.Duration {
	if v.MaxSkew <= 0 {
		return DefaultMaxSkew
	}
	return v.MaxSkew
}

// AcceptedUntil is the last moment a request stamped at timestamp passes
// the timestamp check on a clock like ours: a record of its nonce kept
// until then (plus any clock difference between replicas) catches every
// replay of it.
func (v *Verifier) AcceptedUntil(timestamp time.Time) time.Time {
	return timestamp.Add(v.maxSkew())
}

// Replayed is the rejection of a nonce already used, here or, through a
// shared record, on another replica.
func Replayed() *Error {
	return reject(CodeReplayedNonce, "The request nonce was already used; every request needs a new nonce.")
}

func hasSecret(secrets [][]byte) bool {
	for _, s := range secrets {
		if len(s) > 0 {
			return true
		}
	}
	return false
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

// checkURL binds the signature to this endpoint, so a request Fly signed for
// another provider, resource or method path cannot be replayed here. Scheme
// and host compare case-insensitively (with default ports made explicit),
// the path exactly; the signed url's query and fragment are ignored.
func checkURL(signed, expected string) error {
	want, err := url.Parse(expected)
	if err != nil || want.Scheme == "" || want.Host == "" {
		return fmt.Errorf("verify request: expected URL %q is not an absolute URL", expected)
	}
	shown := signed
	if len(shown) > 200 { // the url is the sender's; keep the echo short
		shown = shown[:200] + "…"
	}
	mismatch := reject(CodeURLMismatch, fmt.Sprintf("The signed url %q is not this endpoint (%s).",
		shown, want.Scheme+"://"+want.Host+want.EscapedPath()))
	got, err := url.Parse(signed)
	if err != nil {
		return mismatch
	}
	if !strings.EqualFold(got.Scheme, want.Scheme) ||
		!strings.EqualFold(hostPort(got), hostPort(want)) ||
		got.Path != want.Path {
		return mismatch
	}
	return nil
}

// hostPort is u's host with the scheme's default port made explicit, so
// "https://a.example" and "https://a.example:443" are the same endpoint.
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
