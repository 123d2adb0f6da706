package gateway

import (
	"net/http"
	"time"
)

// limitInFlight bounds the requests being worked on at once. A request that
// cannot get a slot within wait is answered 503 with Retry-After, which Fly
// retries, instead of piling up goroutines and API-server calls until the
// process falls over.
func limitInFlight(max int, wait time.Duration, next http.Handler) http.Handler {
	slots := make(chan struct{}, max)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		timer := time.NewTimer(wait)
		defer timer.Stop()
		select {
		case slots <- struct{}{}:
		case <-timer.C:
			w.Header().Set("Retry-After", "1")
			writeError(w, http.StatusServiceUnavailable, "overloaded", "The provider is busy; retry in a second.")
			return
		case <-r.Context().Done():
			return
		}
		defer func() { <-slots }()
		next.ServeHTTP(w, r)
	})
}
