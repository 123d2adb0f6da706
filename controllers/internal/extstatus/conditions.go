// Package extstatus is how the controllers that write an Extension's status
// write it: the condition helpers, which fields each writer owns, when a
// change is worth a write, and the one apply path every status write takes.
package extstatus

import (
	"fmt"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
)

// SetCondition sets one condition, keeping its transition time unless the
// status changes, so a pass that changes nothing writes nothing.
func SetCondition(ext *jetwayv1.Extension, condType string, status metav1.ConditionStatus, reason, message string) {
	meta.SetStatusCondition(&ext.Status.Conditions, metav1.Condition{
		Type:               condType,
		Status:             status,
		Reason:             reason,
		Message:            message,
		ObservedGeneration: ext.Generation,
	})
}

// MarkTrue sets condType True.
func MarkTrue(ext *jetwayv1.Extension, condType, reason, format string, args ...any) {
	SetCondition(ext, condType, metav1.ConditionTrue, reason, fmt.Sprintf(format, args...))
}

// MarkFalse sets condType False.
func MarkFalse(ext *jetwayv1.Extension, condType, reason, format string, args ...any) {
	SetCondition(ext, condType, metav1.ConditionFalse, reason, fmt.Sprintf(format, args...))
}

// keepTransitionTimes gives each condition in next whose status is the same
// as in stored the stored lastTransitionTime, as meta.SetStatusCondition
// would have: a status computed from a stale copy starts its conditions
// afresh, and must not make an unchanged condition look as if it had just
// transitioned.
func keepTransitionTimes(stored, next []metav1.Condition) {
	for i := range next {
		if c := meta.FindStatusCondition(stored, next[i].Type); c != nil && c.Status == next[i].Status {
			next[i].LastTransitionTime = c.LastTransitionTime
		}
	}
}
