package extension

import (
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
)

// No endless pending: flyctl polls a new extension's status for a few
// minutes and then gives up, so a failure that outlasts that (Fly down, no
// capacity in the region, a machine that keeps failing) must reach Fly as
// `error`, with words a customer can act on, rather than `pending`
// forever. Jetway keeps trying all the while, and the extension returns to
// ready when Fly recovers. status.failingSince records when the failing
// began, so the deadline survives restarts and leader changes; booting or
// a rollout's healthy steps are progress, not failure.

// failingReasons are the MachinesReady reasons that mean failure rather
// than progress.
var failingReasons = map[string]bool{
	jetwayv1.ReasonMachineFailed: true,
	jetwayv1.ReasonMachineWedged: true,
	// Checks fail for a while as a machine boots; the deadline is far
	// longer than any boot.
	jetwayv1.ReasonChecksFailing:        true,
	jetwayv1.ReasonInsufficientCapacity: true,
	jetwayv1.ReasonFlyUnavailable:       true,
	jetwayv1.ReasonFlyRateLimited:       true,
}

// trackFailing sets or clears status.failingSince after a pass. errored
// says the pass ended in a transient error.
func trackFailing(ext *jetwayv1.Extension, errored bool, now time.Time) {
	failing := errored
	if c := meta.FindStatusCondition(ext.Status.Conditions, jetwayv1.ConditionMachinesReady); c != nil && c.Status != metav1.ConditionTrue && failingReasons[c.Reason] {
		failing = true
	}
	switch {
	case !failing:
		ext.Status.FailingSince = nil
	case ext.Status.FailingSince == nil:
		t := metav1.NewTime(now.Truncate(time.Second))
		ext.Status.FailingSince = &t
	}
}

// pastDeadline reports whether ext has been failing for longer than its
// plan's progressDeadline, and says so in words for Fly.
func pastDeadline(ext *jetwayv1.Extension, deadline time.Duration, now time.Time, why string) (string, bool) {
	since := ext.Status.FailingSince
	if since == nil || deadline <= 0 || now.Sub(since.Time) < deadline {
		return "", false
	}
	return fmt.Sprintf("Failing for %s (since %s); Jetway keeps trying: %s",
		now.Sub(since.Time).Round(time.Second), since.UTC().Format(time.RFC3339), why), true
}

// progressDeadline is the plan's progressDeadlineSeconds; the API server
// defaults it, and plans written before it get the same default.
func progressDeadline(plan *jetwayv1.ExtensionPlan) time.Duration {
	if plan != nil && plan.Spec.ProgressDeadlineSeconds != nil && *plan.Spec.ProgressDeadlineSeconds > 0 {
		return time.Duration(*plan.Spec.ProgressDeadlineSeconds) * time.Second
	}
	return defaultProgressDeadline
}

// defaultProgressDeadline is about when flyctl stops polling; the CRD's
// default is the same.
const defaultProgressDeadline = 4 * time.Minute

// stuckReasons are the MachinesReady reasons that need a person: the pass
// reports them as Stalled, though without a terminal error, so it goes on
// looking in case the machine recovers.
var stuckReasons = map[string]bool{
	jetwayv1.ReasonRolloutPaused:        true,
	jetwayv1.ReasonStorageShrinkRefused: true,
}

// stuck is the MachinesReady condition as a stall, if it is one.
func stuck(ext *jetwayv1.Extension) *terminal {
	c := meta.FindStatusCondition(ext.Status.Conditions, jetwayv1.ConditionMachinesReady)
	if c == nil || c.Status == metav1.ConditionTrue || !stuckReasons[c.Reason] {
		return nil
	}
	return &terminal{reason: c.Reason, message: c.Message}
}
