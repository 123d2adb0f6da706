package extstatus

import (
	"k8s.io/apimachinery/pkg/api/equality"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
)

// WorthWriting reports whether next says something stored does not. While
// Fly keeps failing (failing), each retry words its error a little
// differently (another status code, another request id); rewriting the
// message every time would be a status-write storm, and the first message
// of the episode says enough.
func WorthWriting(stored, next jetwayv1.ExtensionStatus, failing bool) bool {
	if equality.Semantic.DeepEqual(stored, next) {
		return false
	}
	return !failing || !sameButMessages(stored, next)
}

// sameButMessages reports whether two statuses differ at most in the
// messages of their conditions, or in which of Fly's transient failures
// (5xx or 429) a condition blames: while Fly is failing, a 429 among the
// 5xx answers (timing jitter between our rate limiter and Fly's can let
// one through) is the same episode, not news worth a status write.
func sameButMessages(a, b jetwayv1.ExtensionStatus) bool {
	a, b = *a.DeepCopy(), *b.DeepCopy()
	for _, st := range []*jetwayv1.ExtensionStatus{&a, &b} {
		for i := range st.Conditions {
			st.Conditions[i].Message = ""
			if st.Conditions[i].Reason == jetwayv1.ReasonFlyRateLimited {
				st.Conditions[i].Reason = jetwayv1.ReasonFlyUnavailable
			}
		}
	}
	return equality.Semantic.DeepEqual(a, b)
}
