package dashboard

import (
	"crypto/subtle"
	"net/http"

	"github.com/jetway-dev/jetway/internal/domain"
)

// access admits a request to a page of organization orgID. It writes the
// sign-in, expired-session or not-your-organization page and reports false
// when the browser may not see it. The role comes from Fly's token info at
// sign-in; a session never grants more than Fly did.
func (h *Handler) access(w http.ResponseWriter, r *http.Request, orgID string, to target) (*Session, bool) {
	s, state := h.readSession(r)
	switch state {
	case sessionNone:
		if _, err := r.Cookie(h.cookies.session); err == nil {
			// Tampered with, or sealed with a retired secret: drop it.
			h.clearSession(w)
		}
		h.page(w, r, http.StatusUnauthorized, signInPage(h.ssoPath(to)))
		return nil, false
	case sessionExpired:
		h.clearSession(w)
		h.page(w, r, http.StatusUnauthorized, expiredPage(h.ssoPath(to)))
		return nil, false
	}
	if s.RoleIn(orgID) == "" {
		h.page(w, r, http.StatusForbidden, notYourOrgPage(s.Email))
		return nil, false
	}
	return s, true
}

// isAdmin reports whether the session's user administers orgID: only
// admins may see an extension's connection details.
func isAdmin(s *Session, orgID string) bool {
	return s.RoleIn(orgID) == domain.RoleAdmin
}

// csrfOK checks a state-changing request: the form must echo the session's
// CSRF token, and a browser-sent Origin must be ours. SameSite=Lax cookies
// already keep cross-site posts out; this holds even where a browser does
// not honour SameSite.
func (h *Handler) csrfOK(r *http.Request, s *Session) bool {
	if o := r.Header.Get("Origin"); o != "" && o != h.origin {
		return false
	}
	token := r.PostFormValue("csrf")
	return token != "" && subtle.ConstantTimeCompare([]byte(token), []byte(s.CSRF)) == 1
}
