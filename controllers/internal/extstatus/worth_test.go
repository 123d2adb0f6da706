package extstatus

import (
	"testing"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
)

func TestSameButMessages(t *testing.T) {
	ea := &jetwayv1.Extension{Status: jetwayv1.ExtensionStatus{Phase: "pending"}}
	MarkFalse(ea, jetwayv1.ConditionAppReady, jetwayv1.ReasonFlyUnavailable, "HTTP 502: bad gateway")
	eb := ea.DeepCopy()
	MarkFalse(eb, jetwayv1.ConditionAppReady, jetwayv1.ReasonFlyUnavailable, "HTTP 503: unavailable")
	if !sameButMessages(ea.Status, eb.Status) {
		t.Error("statuses differing only in a message must count as the same")
	}
	MarkFalse(eb, jetwayv1.ConditionAppReady, jetwayv1.ReasonFlyRateLimited, "429")
	if !sameButMessages(ea.Status, eb.Status) {
		t.Error("a 429 in the middle of 5xx answers is the same Fly failure episode")
	}
	MarkFalse(eb, jetwayv1.ConditionAppReady, jetwayv1.ReasonInsufficientCapacity, "no capacity in ams")
	if sameButMessages(ea.Status, eb.Status) {
		t.Error("a new reason is a real change")
	}
	MarkFalse(eb, jetwayv1.ConditionAppReady, jetwayv1.ReasonFlyUnavailable, "HTTP 502: bad gateway")
	eb.Status.Phase = "error"
	if sameButMessages(ea.Status, eb.Status) {
		t.Error("a new status word is a real change")
	}
}
