package extension

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
)

func readyExtension() *jetwayv1.Extension {
	ext := &jetwayv1.Extension{ObjectMeta: metav1.ObjectMeta{UID: "u1", Generation: 3}}
	ext.Status.ObservedGeneration = 3
	ext.Status.FlycastIP = "fdaa::1"
	for _, c := range []string{jetwayv1.ConditionReady, jetwayv1.ConditionAppReady, jetwayv1.ConditionNetworkReady} {
		ext.Status.Conditions = append(ext.Status.Conditions, metav1.Condition{Type: c, Status: metav1.ConditionTrue})
	}
	return ext
}

// TestFullCheckDue: a look suffices only for a Ready, unchanged extension
// this replica checked in full within the interval.
func TestFullCheckDue(t *testing.T) {
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	const every = time.Hour
	var f fullChecks
	if !f.due(readyExtension(), every, now) {
		t.Error("never checked on this replica: want a full check")
	}
	f.done(readyExtension(), now)
	if f.due(readyExtension(), every, now.Add(59*time.Minute)) {
		t.Error("checked 59 minutes ago, Ready and unchanged: want a look")
	}
	if !f.due(readyExtension(), every, now.Add(every)) {
		t.Error("checked an interval ago: want a full check")
	}
	if !f.due(readyExtension(), 0, now) {
		t.Error("interval 0: want a full check on every pass")
	}
	changed := readyExtension()
	changed.Generation = 4
	if !f.due(changed, every, now) {
		t.Error("spec changed: want a full check")
	}
	unready := readyExtension()
	unready.Status.Conditions[2].Status = metav1.ConditionFalse
	if !f.due(unready, every, now) {
		t.Error("NetworkReady false: want a full check")
	}
	f.forget(readyExtension())
	if !f.due(readyExtension(), every, now) {
		t.Error("forgotten: want a full check")
	}
}
