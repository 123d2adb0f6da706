package machines

import (
	"crypto/subtle"
	"net/http"
	"strings"

	"github.com/jetway-dev/jetway/internal/dev/flysim/internal/respond"
)

// The Machines API token. It guards the API itself and, through
// RequireToken, flysim's control API under /flysim/v1/.

// authorized compares the token in constant time. Scheme names are
// case-insensitive in HTTP; the token itself is not.
func (s *Server) authorized(r *http.Request) bool {
	want := stripScheme(s.currentToken())
	if want == "" {
		return false
	}
	scheme, got, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || (!strings.EqualFold(scheme, "Bearer") && !strings.EqualFold(scheme, "FlyV1")) {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// RequireToken guards h with the token the Machines API accepts now,
// answering 401 as the API does. The control API uses it: it is not Fly,
// but whoever may change Fly's faults must hold Fly's token.
func (s *Server) RequireToken(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.authorized(r) {
			respond.Write(w, respond.Err(http.StatusUnauthorized, "unauthorized"))
			return
		}
		h.ServeHTTP(w, r)
	})
}

// SetToken changes the token Fly accepts, as revoking or rotating a Fly
// API token does: requests with the old one get 401 from then on.
func (s *Server) SetToken(token string) {
	s.tokenMu.Lock()
	defer s.tokenMu.Unlock()
	s.token = token
}

func (s *Server) currentToken() string {
	s.tokenMu.RLock()
	defer s.tokenMu.RUnlock()
	return s.token
}

func stripScheme(tok string) string {
	tok = strings.TrimSpace(tok)
	for _, p := range []string{"Bearer ", "FlyV1 "} {
		if len(tok) > len(p) && strings.EqualFold(tok[:len(p)], p) {
			return strings.TrimSpace(tok[len(p):])
		}
	}
	return tok
}
