package controllers

import (
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
)

// TestStalePassAddsNoWrite replays a status write seen in CI: a pass that
// read a cached copy older than the last write computed the same failing
// status afresh, with new transition times. Merged onto what is stored,
// it must keep the stored times and not be worth writing.
func TestStalePassAddsNoWrite(t *testing.T) {
	stored := &jetwayv1.Extension{Status: jetwayv1.ExtensionStatus{Phase: "pending"}}
	markFalse(stored, jetwayv1.ConditionAppReady, jetwayv1.ReasonFlyUnavailable, "HTTP 500: internal")
	markTrue(stored, jetwayv1.ConditionReconciling, jetwayv1.ReasonProgressing, "HTTP 500: internal")
	for i := range stored.Status.Conditions {
		stored.Status.Conditions[i].LastTransitionTime = metav1.NewTime(time.Now().Add(-time.Second).Truncate(time.Second))
	}
	stale := &jetwayv1.Extension{Status: jetwayv1.ExtensionStatus{Phase: "pending"}}
	markFalse(stale, jetwayv1.ConditionAppReady, jetwayv1.ReasonFlyUnavailable, "HTTP 502: bad gateway")
	markTrue(stale, jetwayv1.ConditionReconciling, jetwayv1.ReasonProgressing, "HTTP 502: bad gateway")

	merged := ownStatusOnto(stored.Status, stale.Status)
	for _, c := range merged.Conditions {
		if want := meta.FindStatusCondition(stored.Status.Conditions, c.Type).LastTransitionTime; !c.LastTransitionTime.Equal(&want) {
			t.Errorf("%s moved its transition time from %v to %v without a transition", c.Type, want, c.LastTransitionTime)
		}
	}
	if statusWorthWriting(stored.Status, merged, true) {
		t.Error("a failing pass that only rewords the stored status must not write")
	}
	if !statusWorthWriting(stored.Status, merged, false) {
		t.Error("a pass that succeeded writes its new messages")
	}

	markTrue(stale, jetwayv1.ConditionAppReady, jetwayv1.ReasonAppCreated, "")
	merged = ownStatusOnto(stored.Status, stale.Status)
	if c := meta.FindStatusCondition(merged.Conditions, jetwayv1.ConditionAppReady); c.LastTransitionTime.Equal(&stored.Status.Conditions[0].LastTransitionTime) {
		t.Error("a condition that did transition must keep its new time")
	}
	if !statusWorthWriting(stored.Status, merged, true) {
		t.Error("a real change is written even while failing")
	}
}
