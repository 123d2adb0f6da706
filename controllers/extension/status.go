package extension

import (
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
	"github.com/jetway-dev/jetway/controllers/internal/extstatus"
)

// concernConditions are the conditions owned by one step each; Ready is
// their conjunction.
var concernConditions = []string{
	jetwayv1.ConditionAppReady,
	jetwayv1.ConditionMachinesReady,
	jetwayv1.ConditionNetworkReady,
	jetwayv1.ConditionDNSReady,
}

// initConditions sets every owned condition to Unknown on the first visit,
// so kubectl and GitOps tools see the full picture from the start.
func initConditions(ext *jetwayv1.Extension) {
	for _, t := range append([]string{jetwayv1.ConditionReady}, concernConditions...) {
		if meta.FindStatusCondition(ext.Status.Conditions, t) == nil {
			extstatus.SetCondition(ext, t, metav1.ConditionUnknown, jetwayv1.ReasonPending, "Waiting for the first reconcile to finish")
		}
	}
}

// summarize derives Ready, Reconciling, Stalled and the Fly status word from
// the concern conditions and how the pass ended. stalled carries the
// terminal failure, if any; overdue says whether a failure has outlasted
// the plan's progressDeadline, and words it for Fly (deadline.go).
func summarize(ext *jetwayv1.Extension, stalled *terminal, overdue func(why string) (string, bool)) {
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
		extstatus.MarkFalse(ext, jetwayv1.ConditionReady, stalled.reason, "%s", stalled.message)
		extstatus.MarkTrue(ext, jetwayv1.ConditionStalled, stalled.reason, "%s", stalled.message)
		meta.RemoveStatusCondition(&ext.Status.Conditions, jetwayv1.ConditionReconciling)
		ext.Status.Phase = jetwayv1.PhaseError
		ext.Status.ErrorMessage = stalled.message
	case len(notReady) == 0:
		extstatus.MarkTrue(ext, jetwayv1.ConditionReady, jetwayv1.ReasonSucceeded, "Extension is running: app %s, %d machine(s), %s",
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
		if words, late := overdue(msg); late {
			// Still trying: Reconciling, not Stalled; but Fly hears error.
			extstatus.MarkFalse(ext, jetwayv1.ConditionReady, jetwayv1.ReasonProgressDeadlineExceeded, "%s", words)
			extstatus.MarkTrue(ext, jetwayv1.ConditionReconciling, jetwayv1.ReasonProgressDeadlineExceeded, "%s", words)
			meta.RemoveStatusCondition(&ext.Status.Conditions, jetwayv1.ConditionStalled)
			ext.Status.Phase = jetwayv1.PhaseError
			ext.Status.ErrorMessage = words
			return
		}
		extstatus.MarkFalse(ext, jetwayv1.ConditionReady, jetwayv1.ReasonProgressing, "%s", msg)
		extstatus.MarkTrue(ext, jetwayv1.ConditionReconciling, jetwayv1.ReasonProgressing, "%s", msg)
		meta.RemoveStatusCondition(&ext.Status.Conditions, jetwayv1.ConditionStalled)
		ext.Status.Phase = jetwayv1.PhasePending
		ext.Status.ErrorMessage = ""
	}
}
