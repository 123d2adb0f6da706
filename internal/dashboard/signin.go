package dashboard

import (
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"sync"
	"time"

	"golang.org/x/oauth2"
)

// target is where a sign-in lands: one extension's page, or an
// organization's list.
type target struct {
	Kind string `json:"k"` // targetExtension or targetOrganization
	ID   string `json:"i"` // Fly's extension id or organization id
}

const (
	targetExtension    = "ext"
	targetOrganization = "org"
)

// flow is one sign-in in progress, sealed into a cookie named after its
// state: the state in Fly's redirect must find the cookie this browser got
// when the sign-in started (RFC 9700 §2.1: state bound to the user agent).
type flow struct {
	State    string `json:"s"`
	Verifier string `json:"v"` // PKCE code verifier
	Target   target `json:"t"`
	Expires  int64  `json:"x"`
}

// startSignIn sends the browser to Fly's authorize page with a fresh
// one-time state and PKCE challenge.
func (h *Handler) startSignIn(w http.ResponseWriter, r *http.Request, to target) {
	state, err := randomToken()
	if err != nil {
		h.failure(w, r, err)
		return
	}
	f := flow{State: state, Verifier: oauth2.GenerateVerifier(), Target: to,
		Expires: h.now().Add(h.cfg.StateTTL).Unix()}
	name := h.cookies.stateCookie(state)
	value, err := h.sealer.seal(name, f)
	if err != nil {
		h.failure(w, r, err)
		return
	}
	http.SetCookie(w, h.cookies.make(name, value, h.now(), time.Unix(f.Expires, 0)))
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, h.oauth.authorizeURL(state, f.Verifier), http.StatusFound)
}

func randomToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// usedStates remembers states already redeemed until they would have
// expired anyway, so a replayed callback (same state, same cookie, captured
// before the browser dropped it) is refused even though the cookie still
// opens. It is per replica, like the nonce store; the single-use code at
// Fly closes the gap across replicas.
type usedStates struct {
	mu   sync.Mutex
	seen map[string]time.Time // state → when it expires
}

func newUsedStates() *usedStates { return &usedStates{seen: map[string]time.Time{}} }

// redeem reports whether state is redeemed for the first time, and
// forgets states past their expiry.
func (u *usedStates) redeem(state string, expires, now time.Time) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	for s, exp := range u.seen {
		if now.After(exp) {
			delete(u.seen, s)
		}
	}
	if _, ok := u.seen[state]; ok {
		return false
	}
	u.seen[state] = expires
	return true
}
