package gateway

import (
	"encoding/json"
	"net/http"
)

// apiError is the error body Fly receives; it shows message to customers.
type apiError struct {
	Error   string `json:"error"`
	Message string `json:"message"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	startJSON(w, status)
	_ = json.NewEncoder(w).Encode(v) // a failed write is a client gone
}

// startJSON writes the headers of every JSON answer; the body follows.
func startJSON(w http.ResponseWriter, status int) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
}

func writeError(w http.ResponseWriter, status int, code, message string) {
	writeJSON(w, status, apiError{Error: code, Message: message})
}

// internalError logs the cause and answers with a sentence that leaks no
// internals.
func (s *Server) internalError(w http.ResponseWriter, r *http.Request, err error) {
	s.log.Error(err, "Gateway request failed", "method", r.Method, "path", r.URL.Path)
	writeError(w, http.StatusServiceUnavailable, "unavailable",
		"The provider could not complete the request right now; it is safe to retry.")
}
