package controllers

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
)

// concernConditions are the conditions owned by one step each; Ready is
// their conjunction.
var concernConditions = []string{
	jetwayv1.ConditionAppReady,
	jetwayv1.ConditionMachinesReady,
	jetwayv1.ConditionNetworkReady,
	jetwayv1.ConditionDNSReady,
}

// setCondition sets one condition, keeping its transition time unless the
// status changes, so a pass that changes nothing writes nothing.
func setCondition(ext *jetwayv1.Extension, condType string, status metav1.ConditionStatus, reason, message string) {
	meta.SetStatusCondition(&ext.Status.Conditions, metav1.Condition{
		Type:               condType,
		Status:             status,
		Reason:             reason,
		Message:            message,
		ObservedGeneration: ext.Generation,
	})
}

func markTrue(ext *jetwayv1.Extension, condType, reason, format string, args ...any) {
	setCondition(ext, condType, metav1.ConditionTrue, reason, fmt.Sprintf(format, args...))
}

func markFalse(ext *jetwayv1.Extension, condType, reason, format string, args ...any) {
	setCondition(ext, condType, metav1.ConditionFalse, reason, fmt.Sprintf(format, args...))
}

// initConditions sets every owned condition to Unknown on the first visit,
// so kubectl and GitOps tools see the full picture from the start.
func initConditions(ext *jetwayv1.Extension) {
	for _, t := range append([]string{jetwayv1.ConditionReady}, concernConditions...) {
		if meta.FindStatusCondition(ext.Status.Conditions, t) == nil {
			setCondition(ext, t, metav1.ConditionUnknown, jetwayv1.ReasonPending, "Waiting for the first reconcile to finish")
		}
	}
}

// summarize derives Ready, Reconciling, Stalled and the Fly status word from
// the concern conditions and how the pass ended. stalled carries the
// terminal failure, if any.
func summarize(ext *jetwayv1.Extension, stalled *terminal) {
	var notReady []string
	for _, t := range concernConditions {
		if !meta.IsStatusConditionTrue(ext.Status.Conditions, t) {
			c := meta.FindStatusCondition(ext.Status.Conditions, t)
			msg := t + " is not true yet"
			if c != nil && c.Message != "" {
				msg = c.Message
			}
			notReady = append(notReady, msg)
		}
	}
	switch {
	case stalled != nil:
		markFalse(ext, jetwayv1.ConditionReady, stalled.reason, "%s", stalled.message)
		markTrue(ext, jetwayv1.ConditionStalled, stalled.reason, "%s", stalled.message)
		meta.RemoveStatusCondition(&ext.Status.Conditions, jetwayv1.ConditionReconciling)
		ext.Status.Phase = jetwayv1.PhaseError
		ext.Status.ErrorMessage = stalled.message
	case len(notReady) == 0:
		markTrue(ext, jetwayv1.ConditionReady, jetwayv1.ReasonSucceeded, "Extension is running: app %s, %d machine(s), %s",
			ext.Status.AppName, len(ext.Status.Machines), ext.Status.DNSName)
		meta.RemoveStatusCondition(&ext.Status.Conditions, jetwayv1.ConditionReconciling)
		meta.RemoveStatusCondition(&ext.Status.Conditions, jetwayv1.ConditionStalled)
		ext.Status.Phase = jetwayv1.PhaseReady
		if c := meta.FindStatusCondition(ext.Status.Conditions, jetwayv1.ConditionMachinesReady); c != nil && c.Reason == jetwayv1.ReasonMachinesAsleep {
			ext.Status.Phase = jetwayv1.PhaseSleeping
		}
		ext.Status.ErrorMessage = ""
	default:
		msg := strings.Join(notReady, "; ")
		markFalse(ext, jetwayv1.ConditionReady, jetwayv1.ReasonProgressing, "%s", msg)
		markTrue(ext, jetwayv1.ConditionReconciling, jetwayv1.ReasonProgressing, "%s", msg)
		meta.RemoveStatusCondition(&ext.Status.Conditions, jetwayv1.ConditionStalled)
		ext.Status.Phase = jetwayv1.PhasePending
		ext.Status.ErrorMessage = ""
	}
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
