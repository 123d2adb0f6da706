package dashboard

import (
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"sort"
	"strings"
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
// one-time state and PKCE challenge, naming the organization the target
// belongs to, as Fly's page asks ("You should pass the organization ID").
func (h *Handler) startSignIn(w http.ResponseWriter, r *http.Request, to target, orgID string) {
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
	h.pruneFlows(w, r)
	http.SetCookie(w, h.cookies.make(name, value, h.now(), time.Unix(f.Expires, 0)))
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, h.oauth.authorizeURL(state, f.Verifier, orgID), http.StatusFound)
}

// maxOpenFlows bounds the sign-ins one browser keeps open at once. Every
// flow cookie rides along on every request until it expires, so a user who
// opens the SSO URL many times without finishing must not pile them up.
const maxOpenFlows = 4

// pruneFlows expires the browser's flow cookies that are unreadable or
// past their time, and the oldest ones beyond maxOpenFlows-1, making room
// for the flow being started.
func (h *Handler) pruneFlows(w http.ResponseWriter, r *http.Request) {
	type open struct {
		name    string
		expires int64
	}
	var live []open
	for _, c := range r.Cookies() {
		if !strings.HasPrefix(c.Name, h.cookies.prefix) {
			continue
		}
		var f flow
		if err := h.sealer.open(c.Name, c.Value, &f); err != nil || !h.now().Before(time.Unix(f.Expires, 0)) {
			http.SetCookie(w, h.cookies.expire(c.Name))
			continue
		}
		live = append(live, open{c.Name, f.Expires})
	}
	sort.Slice(live, func(i, j int) bool { return live[i].expires > live[j].expires })
	for _, o := range live[min(len(live), maxOpenFlows-1):] {
		http.SetCookie(w, h.cookies.expire(o.name))
	}
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
