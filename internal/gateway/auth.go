package gateway

import (
	"errors"
	"io"
	"net/http"

	"github.com/jetway-dev/jetway/internal/signing"
)

// readSigned reads and verifies a request. For POST and PATCH it returns
// the raw body, which is what was signed; for GET and DELETE the signed
// bytes are the raw query string. On failure it has already answered.
func (s *Server) readSigned(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	var message []byte
	var params signing.Params
	var err error
	switch r.Method {
	case http.MethodPost, http.MethodPatch:
		body, rerr := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes))
		if rerr != nil {
			var tooBig *http.MaxBytesError
			if errors.As(rerr, &tooBig) {
				writeError(w, http.StatusRequestEntityTooLarge, "body_too_large", "The request body is larger than the provider accepts.")
				return nil, false
			}
			writeError(w, http.StatusBadRequest, "invalid_body", "The request body could not be read.")
			return nil, false
		}
		message = body
		// Signature first: a body that is not JSON is still checked, so an
		// unsigned caller learns nothing about our parsing.
		if !signing.Valid(s.cfg.Verifier.Secrets, body, r.Header.Get("X-Signature")) {
			s.reject(w, r, s.cfg.Verifier.Verify(body, r.Header.Get("X-Signature"), signing.Params{}, ""))
			return nil, false
		}
		params, err = signing.ParamsFromBody(body, r.URL.Query())
		if err != nil {
			var se *signing.Error
			if errors.As(err, &se) {
				s.reject(w, r, se)
				return nil, false
			}
			writeError(w, http.StatusBadRequest, "invalid_json", "The request body must be a JSON object.")
			return nil, false
		}
	default:
		message = []byte(r.URL.RawQuery)
		params, err = signing.ParamsFromQuery(r.URL.Query())
		if err != nil {
			s.reject(w, r, err)
			return nil, false
		}
	}
	if err := s.cfg.Verifier.Verify(message, r.Header.Get("X-Signature"), params, s.cfg.ExternalURL+r.URL.EscapedPath()); err != nil {
		s.reject(w, r, err)
		return nil, false
	}
	if !s.claimNonce(w, r, params) {
		return nil, false
	}
	return message, true
}

// claimNonce records the nonce of a request that changes something in the
// cluster-wide ledger, once every local check has passed (so unsigned or
// stale traffic writes nothing). A GET changes nothing, so its replay to
// another replica is harmless and costs no write. On failure it has
// already answered: 401 for a replay, 503 when the ledger could not say.
func (s *Server) claimNonce(w http.ResponseWriter, r *http.Request, p signing.Params) bool {
	if s.cfg.ReplayLedger == nil || r.Method == http.MethodGet {
		return true
	}
	fresh, err := s.cfg.ReplayLedger.Claim(r.Context(), p.Nonce, s.cfg.Verifier.AcceptedUntil(p.Timestamp))
	if err != nil {
		s.internalError(w, r, err)
		return false
	}
	if !fresh {
		s.reject(w, r, signing.Replayed())
		return false
	}
	return true
}

// reject answers a failed verification: 401 with the reason for a
// rejection, 503 when our own nonce store failed.
func (s *Server) reject(w http.ResponseWriter, r *http.Request, err error) {
	var se *signing.Error
	if errors.As(err, &se) {
		signingRefusals.WithLabelValues(se.Code).Inc()
		s.log.Info("Rejected unauthenticated request", "method", r.Method, "path", r.URL.Path, "reason", se.Code)
		writeError(w, http.StatusUnauthorized, se.Code, se.Message)
		return
	}
	s.internalError(w, r, err)
}
