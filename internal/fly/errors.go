package fly

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/superfly/fly-go/flaps"
)

// Sentinels a caller matches with errors.Is. Every error the Client returns
// for an answered request wraps exactly one of them.
var (
	ErrNotFound     = errors.New("not found")
	ErrNameTaken    = errors.New("name already taken")
	ErrConflict     = errors.New("conflict")
	ErrRateLimited  = errors.New("rate limited by Fly")
	ErrUnauthorized = errors.New("unauthorized by Fly")
	ErrCapacity     = errors.New("insufficient capacity")
	ErrInvalid      = errors.New("rejected by Fly as invalid")
	ErrUnavailable  = errors.New("Fly unavailable") //nolint:staticcheck // ST1005: "Fly" is a name, and this text is shown in conditions
)

// APIError is a classified Machines API failure.
type APIError struct {
	Kind       error         // one of the sentinels
	Status     int           // HTTP status; 0 when no answer came
	Message    string        // Fly's message, safe to show an operator
	RequestID  string        // fly-request-id, for Fly support
	RetryAfter time.Duration // from Retry-After on a 429, when known
}

func (e *APIError) Error() string {
	msg := e.Message
	if msg == "" {
		msg = http.StatusText(e.Status)
	}
	if e.Status == 0 {
		return fmt.Sprintf("%v: %s", e.Kind, msg)
	}
	return fmt.Sprintf("%v (HTTP %d): %s", e.Kind, e.Status, msg)
}

// Is lets errors.Is match the sentinel.
func (e *APIError) Is(target error) bool { return target == e.Kind }

// classify turns a flaps (or transport) error into an *APIError. Fly reuses
// status codes for different failures — 409 is both "lease held" and "could
// not reserve resource", 412 both "insufficient resources" and a version
// precondition — so the body text decides, not the code alone.
func classify(err error) error {
	if err == nil {
		return nil
	}
	var fe *flaps.FlapsError
	if !errors.As(err, &fe) {
		if errors.Is(err, context.Canceled) {
			return err
		}
		var netErr net.Error
		if errors.Is(err, context.DeadlineExceeded) || errors.As(err, &netErr) || strings.Contains(err.Error(), "connection") {
			return &APIError{Kind: ErrUnavailable, Message: err.Error()}
		}
		return err
	}
	msg := strings.TrimSpace(fe.Error())
	body := strings.ToLower(string(fe.ResponseBody))
	out := &APIError{Status: fe.ResponseStatusCode, Message: msg, RequestID: fe.FlyRequestId}
	code := flaps.GetErrorStatusCode(err)
	switch {
	case code != nil && *code == "insufficient_capacity",
		strings.Contains(body, "insufficient"), strings.Contains(body, "capacity"),
		strings.Contains(body, "over the allowed quota"), strings.Contains(body, "could not reserve resource"):
		out.Kind = ErrCapacity
	case code != nil && *code == "name_taken", strings.Contains(body, "has already been taken"):
		out.Kind = ErrNameTaken
	case fe.ResponseStatusCode == http.StatusNotFound:
		out.Kind = ErrNotFound
	case fe.ResponseStatusCode == http.StatusTooManyRequests:
		out.Kind = ErrRateLimited
	case fe.ResponseStatusCode == http.StatusUnauthorized:
		out.Kind = ErrUnauthorized
	case fe.ResponseStatusCode == http.StatusForbidden:
		// 403 is a token without rights to this app or org: it will not
		// fix itself, like 401.
		out.Kind = ErrUnauthorized
	case fe.ResponseStatusCode == http.StatusConflict, fe.ResponseStatusCode == http.StatusPreconditionFailed:
		out.Kind = ErrConflict
	case fe.ResponseStatusCode == http.StatusRequestTimeout, fe.ResponseStatusCode >= 500:
		out.Kind = ErrUnavailable
	case fe.ResponseStatusCode == http.StatusUnprocessableEntity, fe.ResponseStatusCode == http.StatusBadRequest:
		out.Kind = ErrInvalid
	default:
		out.Kind = ErrUnavailable
	}
	return out
}

// parseRetryAfter reads a Retry-After header given in seconds.
func parseRetryAfter(v string) time.Duration {
	if s, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && s > 0 {
		return time.Duration(s) * time.Second
	}
	return 0
}

// RetryAfter is how long Fly asked us to wait, or 0.
func RetryAfter(err error) time.Duration {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.RetryAfter
	}
	return 0
}
