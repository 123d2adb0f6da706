package hooks

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// Failure makes the sink fail deliveries on purpose, as an outage of Fly's
// webhook endpoint would. A failing delivery is still verified first (a bad
// signature is still 401, a replayed nonce still a replay, and its nonce is
// used up), then answered Status without being recorded.
//
// Count alone fails the next Count deliveries; Until alone fails every
// delivery until then (by Options.Now); both fail the next Count deliveries
// but none after Until. Neither (the zero value) is off.
type Failure struct {
	// Status is the answer, a 4xx or 5xx code; 0 means 503.
	Status int
	// Count is how many more deliveries fail.
	Count int
	// Until is when failing stops.
	Until time.Time
	// RetryAfter, when positive, is sent as a Retry-After header in whole
	// seconds, rounded up.
	RetryAfter time.Duration
}

// Validate reports the first thing wrong with f.
func (f Failure) Validate() error {
	switch {
	case f.Status != 0 && (f.Status < 400 || f.Status > 599):
		return fmt.Errorf("status %d is not a 4xx or 5xx code", f.Status)
	case f.Count < 0:
		return errors.New("count must not be negative")
	case f.RetryAfter < 0:
		return errors.New("retry_after must not be negative")
	}
	return nil
}

func (f Failure) off() bool { return f.Count == 0 && f.Until.IsZero() }

// SetFailure replaces the failure in force, effective for the next
// delivery; the zero value turns it off. It panics if f is invalid (see
// Validate): that is a bug in the caller.
func (h *Sink) SetFailure(f Failure) {
	if err := f.Validate(); err != nil {
		panic("flysim: invalid webhook failure: " + err.Error())
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.failure = f
}

// Failure returns the failure in force, with the deliveries it still has
// to fail; the zero value once it is over.
func (h *Sink) Failure() Failure {
	h.mu.Lock()
	defer h.mu.Unlock()
	if f := h.failure; !f.Until.IsZero() && !h.now().Before(f.Until) {
		h.failure = Failure{}
	}
	return h.failure
}

// failLocked decides whether this delivery fails on purpose, using up one
// of Count if so, and turns the failure off once it is over.
func (h *Sink) failLocked(now time.Time) (status int, retryAfter time.Duration, failing bool) {
	f := &h.failure
	if !f.Until.IsZero() && !now.Before(f.Until) {
		*f = Failure{}
	}
	if f.off() {
		*f = Failure{}
		return 0, 0, false
	}
	status, retryAfter = f.Status, f.RetryAfter
	if status == 0 {
		status = http.StatusServiceUnavailable
	}
	if f.Count > 0 {
		f.Count--
		if f.Count == 0 {
			*f = Failure{} // Count was the limit, with or without Until
		}
	}
	return status, retryAfter, true
}

// failureJSON is how a Failure travels over /flysim/v1/webhook-failure.
type failureJSON struct {
	Status     int    `json:"status"`
	Count      int    `json:"count"`
	Until      string `json:"until"`       // RFC3339; "" for none
	RetryAfter string `json:"retry_after"` // Go duration
}

// MarshalJSON implements json.Marshaler: until as RFC3339 ("" when unset),
// retry_after as a Go duration string.
func (f Failure) MarshalJSON() ([]byte, error) {
	out := failureJSON{Status: f.Status, Count: f.Count, RetryAfter: f.RetryAfter.String()}
	if !f.Until.IsZero() {
		out.Until = f.Until.UTC().Format(time.RFC3339Nano)
	}
	return json.Marshal(out)
}

// UnmarshalJSON implements json.Unmarshaler. Missing fields are zero;
// unknown fields are an error, as for the Machines API's faults.
func (f *Failure) UnmarshalJSON(b []byte) error {
	var in failureJSON
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return err
	}
	out := Failure{Status: in.Status, Count: in.Count}
	if in.Until != "" {
		t, err := time.Parse(time.RFC3339, in.Until)
		if err != nil {
			return fmt.Errorf("until: %w", err)
		}
		out.Until = t
	}
	if in.RetryAfter != "" {
		d, err := time.ParseDuration(in.RetryAfter)
		if err != nil {
			return fmt.Errorf("retry_after: %w", err)
		}
		out.RetryAfter = d
	}
	*f = out
	return nil
}
