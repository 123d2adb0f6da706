package dashboard

import (
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"time"

	"github.com/jetway-dev/jetway/internal/domain"
)

// maxSessionOrgs bounds how many organizations a session cookie remembers,
// so a user in very many Fly organizations still fits in a 4 KB cookie. The
// organization signed in to always comes first; others need a new sign-in.
const maxSessionOrgs = 40

// Session is what the session cookie carries. It is sealed (encrypted and
// authenticated), so its contents are neither readable nor forgeable by the
// browser. Short JSON keys keep the cookie small.
type Session struct {
	UserID string       `json:"u"`
	Name   string       `json:"n,omitempty"`
	Email  string       `json:"e,omitempty"`
	Orgs   []Membership `json:"o"`
	// CSRF is the per-session token every state-changing form must echo.
	CSRF string `json:"c"`
	// Expires is when the session ends (Unix seconds, UTC).
	Expires int64 `json:"x"`
}

// Membership is the user's role in one Fly organization, as Fly's token
// info reported it at sign-in.
type Membership struct {
	OrgID string `json:"i"`
	Role  string `json:"r"`
}

// RoleIn returns the user's role in orgID, or "" when not a member.
func (s *Session) RoleIn(orgID string) string {
	for _, m := range s.Orgs {
		if m.OrgID == orgID {
			return m.Role
		}
	}
	return ""
}

// sessionState is what a request's session cookie amounts to.
type sessionState int

const (
	sessionNone    sessionState = iota // no cookie, or one we cannot open
	sessionExpired                     // a genuine session past its end
	sessionValid
)

// newSession builds the session of a signed-in user. Memberships are
// normalized to admin/member, and the one signed in to is kept first.
func newSession(info *TokenInfo, signedInOrg string, expires time.Time) (*Session, error) {
	csrf := make([]byte, 32)
	if _, err := rand.Read(csrf); err != nil {
		return nil, err
	}
	s := &Session{UserID: info.UserID, Name: info.UserName, Email: info.Email,
		CSRF: base64.RawURLEncoding.EncodeToString(csrf), Expires: expires.Unix()}
	for _, o := range info.Organizations {
		if o.ID == signedInOrg {
			s.Orgs = append([]Membership{{OrgID: o.ID, Role: domain.NormalizeRole(o.Role)}}, s.Orgs...)
		} else if len(s.Orgs) < maxSessionOrgs-1 {
			s.Orgs = append(s.Orgs, Membership{OrgID: o.ID, Role: domain.NormalizeRole(o.Role)})
		}
	}
	return s, nil
}

// readSession opens the session cookie of r.
func (h *Handler) readSession(r *http.Request) (*Session, sessionState) {
	c, err := r.Cookie(h.cookies.session)
	if err != nil {
		return nil, sessionNone
	}
	var s Session
	if err := h.sealer.open(h.cookies.session, c.Value, &s); err != nil || s.UserID == "" || s.CSRF == "" {
		return nil, sessionNone
	}
	if !h.now().Before(time.Unix(s.Expires, 0)) {
		return &s, sessionExpired
	}
	return &s, sessionValid
}

// writeSession sets the session cookie; it expires with the session.
func (h *Handler) writeSession(w http.ResponseWriter, s *Session) error {
	value, err := h.sealer.seal(h.cookies.session, s)
	if err != nil {
		return err
	}
	http.SetCookie(w, h.cookies.make(h.cookies.session, value, h.now(), time.Unix(s.Expires, 0)))
	return nil
}

// clearSession removes the session cookie.
func (h *Handler) clearSession(w http.ResponseWriter) {
	http.SetCookie(w, h.cookies.expire(h.cookies.session))
}
