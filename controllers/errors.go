package controllers

import (
	"errors"
	"fmt"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
	"github.com/jetway-dev/jetway/internal/fly"
)

// terminal is a failure that retrying cannot fix: it needs a change to the
// Extension, a plan, or Jetway's Fly credentials. The pass reports it as
// Stalled and returns reconcile.TerminalError, so no backoff loop spins.
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
