package dashboard

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"time"
)

// cookieJar names and shapes the dashboard's cookies. Under TLS the names
// carry the __Host- prefix, which browsers only accept with Secure, Path=/
// and no Domain: a sibling subdomain cannot plant or overwrite them.
type cookieJar struct {
	secure  bool
	session string
	prefix  string // of the per-flow OAuth state cookies
}

func newCookieJar(secure bool) cookieJar {
	p := ""
	if secure {
		p = "__Host-"
	}
	return cookieJar{secure: secure, session: p + "jetway_session", prefix: p + "jetway_oauth_"}
}

// stateCookie names the cookie of one sign-in flow after its state value,
// so two sign-ins started in two tabs do not overwrite each other.
func (j cookieJar) stateCookie(state string) string {
	sum := sha256.Sum256([]byte(state))
	return j.prefix + hex.EncodeToString(sum[:8])
}

// make builds a cookie that JavaScript cannot read and that browsers send
// on top-level navigations from Fly (SameSite=Lax: Fly's redirect back to
// the callback is one) but not on cross-site form posts.
func (j cookieJar) make(name, value string, now, expires time.Time) *http.Cookie {
	return &http.Cookie{
		Name: name, Value: value, Path: "/",
		Expires: expires.UTC(), MaxAge: max(1, int(expires.Sub(now).Seconds())),
		HttpOnly: true, Secure: j.secure, SameSite: http.SameSiteLaxMode,
	}
}

// expire builds a cookie that deletes name.
func (j cookieJar) expire(name string) *http.Cookie {
	return &http.Cookie{Name: name, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: j.secure, SameSite: http.SameSiteLaxMode}
}
