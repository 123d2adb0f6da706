package extension

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
)

// readyExtension is an unchanged extension that became Ready at readyAt.
func readyExtension(readyAt time.Time) *jetwayv1.Extension {
	ext := &jetwayv1.Extension{ObjectMeta: metav1.ObjectMeta{UID: "u1", Generation: 3}}
	ext.Status.ObservedGeneration = 3
	ext.Status.FlycastIP = "fdaa::1"
	for _, c := range []string{jetwayv1.ConditionReady, jetwayv1.ConditionAppReady, jetwayv1.ConditionNetworkReady} {
		ext.Status.Conditions = append(ext.Status.Conditions, metav1.Condition{
			Type: c, Status: metav1.ConditionTrue, LastTransitionTime: metav1.NewTime(readyAt)})
	}
	return ext
}

// TestFullCheckDue: a look suffices only for a Ready, unchanged extension
// that has been Ready, and known to this replica, for settleResyncs
// resyncs, and that this replica checked in full within the interval.
func TestFullCheckDue(t *testing.T) {
	t0 := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	const every, resync = time.Hour, 5 * time.Minute
	settle := settleResyncs * resync
	longReady := readyExtension(t0.Add(-24 * time.Hour))
	var f fullChecks
	if !f.due(longReady, every, resync, t0) {
		t.Error("never checked on this replica: want a full check")
	}
	f.done(longReady, t0)
	if !f.due(longReady, every, resync, t0.Add(resync)) {
		t.Error("taken over one resync ago: want a full check (a dead leader's request may still land)")
	}
	f.done(longReady, t0.Add(settle))
	if f.due(longReady, every, resync, t0.Add(settle+resync)) {
		t.Error("known for the settle window, checked a resync ago: want a look")
	}
	if !f.due(longReady, every, resync, t0.Add(settle+every)) {
		t.Error("checked an interval ago: want a full check")
	}
	if !f.due(longReady, 0, resync, t0.Add(settle+resync)) {
		t.Error("interval 0: want a full check on every pass")
	}
	if !f.due(readyExtension(t0.Add(settle)), every, resync, t0.Add(settle+resync)) {
		t.Error("Ready one resync ago: want a full check")
	}
	changed := readyExtension(t0.Add(-24 * time.Hour))
	changed.Generation = 4
	if !f.due(changed, every, resync, t0.Add(settle+resync)) {
		t.Error("spec changed: want a full check")
	}
	unready := readyExtension(t0.Add(-24 * time.Hour))
	unready.Status.Conditions[2].Status = metav1.ConditionFalse
	if !f.due(unready, every, resync, t0.Add(settle+resync)) {
		t.Error("NetworkReady false: want a full check")
	}
	// A pass right after a full check of the same generation (a machine
	// event of a new extension) looks, even while not Ready.
	booting := readyExtension(t0)
	booting.UID = "u2"
	booting.Status.Conditions[0].Status = metav1.ConditionFalse
	f.done(booting, t0)
	if f.due(booting, every, resync, t0.Add(time.Second)) {
		t.Error("checked in full a second ago, same generation: want a look")
	}
	if !f.due(booting, every, resync, t0.Add(fullCheckSpacing(resync))) {
		t.Error("not Ready, last full check fullCheckSpacing ago: want a full check")
	}
	if !f.due(booting, every, 2*time.Second, t0.Add(time.Second)) {
		t.Error("resync 2s, checked 1s ago: the spacing is half a resync, want a full check")
	}
	booting.Generation, booting.Status.ObservedGeneration = 4, 4
	if !f.due(booting, every, resync, t0.Add(time.Second)) {
		t.Error("a new generation since the last full check: want a full check")
	}
	f.forget(longReady)
	if !f.due(longReady, every, resync, t0.Add(settle+resync)) {
		t.Error("forgotten: want a full check")
	}
}
