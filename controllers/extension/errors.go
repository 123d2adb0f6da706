package extension

import (
	"errors"
	"fmt"
	"time"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
	"github.com/jetway-dev/jetway/internal/fly"
)

// terminal is a failure that retrying cannot fix: it needs a change to the
// Extension, a plan, or Jetway's Fly credentials. The pass reports it as
// Stalled and no backoff loop spins: it is tried again on a change, and
// otherwise only after Settings.StalledRecheck.
type terminal struct {
	reason  string
	message string
}

func (t *terminal) Error() string { return t.message }

func newTerminal(reason, format string, args ...any) *terminal {
	return &terminal{reason: reason, message: fmt.Sprintf(format, args...)}
}

// asTerminal reports whether err is terminal, classifying Fly's errors:
// a bad token or a forbidden org cannot succeed until someone fixes
// Jetway's configuration; everything else is worth retrying.
func asTerminal(err error) (*terminal, bool) {
	var t *terminal
	if errors.As(err, &t) {
		return t, true
	}
	if errors.Is(err, fly.ErrUnauthorized) {
		return newTerminal(jetwayv1.ReasonFlyUnauthorized,
			"Fly rejected Jetway's API token; the provider's operators must fix the token or its organization"), true
	}
	if errors.Is(err, fly.ErrInvalid) {
		// Fly refused the request itself (an image it cannot pull, a
		// region it does not know): sending it again cannot help.
		return newTerminal(jetwayv1.ReasonFlyRejected, "Fly rejected the request: %s", flyMessage(err)), true
	}
	return nil, false
}

// reasonFor names a transient Fly failure for a condition.
func reasonFor(err error) string {
	switch {
	case errors.Is(err, fly.ErrRateLimited):
		return jetwayv1.ReasonFlyRateLimited
	case errors.Is(err, fly.ErrCapacity):
		return jetwayv1.ReasonInsufficientCapacity
	default:
		return jetwayv1.ReasonFlyUnavailable
	}
}

// flyMessage is Fly's own words for a failure, without our wrapping.
func flyMessage(err error) string {
	var ae *fly.APIError
	if errors.As(err, &ae) && ae.Message != "" {
		return ae.Message
	}
	return err.Error()
}

// rateLimited reports whether Fly answered 429, and how long to wait: as
// long as Fly asked, or a second when it did not say.
func rateLimited(err error) (time.Duration, bool) {
	if !errors.Is(err, fly.ErrRateLimited) {
		return 0, false
	}
	return max(fly.RetryAfter(err), time.Second), true
}
