package controllers

import (
	"context"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
)

// writeStatus patches the status this controller owns under an optimistic
// lock: the notifier writes a condition of its own and a merge patch
// replaces the whole conditions list, so a stale copy must never win. On a
// conflict (the notifier wrote, or the gateway poked the object with a
// machine event) it re-reads the object and puts its own fields on top of
// the fresh one, rather than failing the pass.
//
// failing says the pass ended in a transient error: then a status that
// differs from the stored one only in wording is not written (see
// statusWorthWriting), and that holds after a conflict too.
func (r *ExtensionReconciler) writeStatus(ctx context.Context, before, ext *jetwayv1.Extension, failing bool) error {
	return writeOwnedStatus(ctx, r.Client, r.APIReader, before, ext, ownStatusOnto,
		func(stored, merged jetwayv1.ExtensionStatus) bool { return statusWorthWriting(stored, merged, failing) })
}

// statusWorthWriting reports whether next says something stored does not.
// While Fly keeps failing, each retry words its error a little differently
// (another status code, another request id); rewriting the message every
// time would be a status-write storm, and the first message of the episode
// says enough.
func statusWorthWriting(stored, next jetwayv1.ExtensionStatus, failing bool) bool {
	if equality.Semantic.DeepEqual(stored, next) {
		return false
	}
	return !failing || !sameButMessages(stored, next)
}

// writeOwnedStatus patches ext's status over before under an optimistic
// lock. On a conflict it re-reads (live, not from the cache), lays the
// writer's own fields, chosen by merge, over the fresh status, and writes
// only if worthWriting still says so: a pass that started from a stale
// cached copy often computed exactly what is already stored, and writing it
// again would only move the conditions' transition times.
func writeOwnedStatus(ctx context.Context, c client.Client, live client.Reader, before, ext *jetwayv1.Extension,
	merge func(theirs, mine jetwayv1.ExtensionStatus) jetwayv1.ExtensionStatus,
	worthWriting func(stored, merged jetwayv1.ExtensionStatus) bool) error {
	base, obj := before, ext.DeepCopy()
	for attempt := 0; ; attempt++ {
		err := c.Status().Patch(ctx, obj, client.MergeFromWithOptions(base, client.MergeFromWithOptimisticLock{}))
		if err == nil || !apierrors.IsConflict(err) || attempt == 3 {
			return err
		}
		fresh := &jetwayv1.Extension{}
		if err := live.Get(ctx, client.ObjectKeyFromObject(ext), fresh); err != nil {
			return err
		}
		base, obj = fresh, fresh.DeepCopy()
		obj.Status = merge(fresh.Status, ext.Status)
		if !worthWriting(fresh.Status, obj.Status) {
			return nil
		}
	}
}

// ownStatusOnto is mine, with the notifier's fields taken from theirs.
func ownStatusOnto(theirs, mine jetwayv1.ExtensionStatus) jetwayv1.ExtensionStatus {
	out := *mine.DeepCopy()
	out.Notification = theirs.Notification.DeepCopy()
	meta.RemoveStatusCondition(&out.Conditions, jetwayv1.ConditionFlyNotified)
	if c := meta.FindStatusCondition(theirs.Conditions, jetwayv1.ConditionFlyNotified); c != nil {
		out.Conditions = append(out.Conditions, *c)
	}
	keepTransitionTimes(theirs.Conditions, out.Conditions)
	return out
}

// notifierStatusOnto is theirs with the notifier's fields taken from mine.
func notifierStatusOnto(theirs, mine jetwayv1.ExtensionStatus) jetwayv1.ExtensionStatus {
	out := *theirs.DeepCopy()
	out.Notification = mine.Notification.DeepCopy()
	meta.RemoveStatusCondition(&out.Conditions, jetwayv1.ConditionFlyNotified)
	if c := meta.FindStatusCondition(mine.Conditions, jetwayv1.ConditionFlyNotified); c != nil {
		out.Conditions = append(out.Conditions, *c)
	}
	keepTransitionTimes(theirs.Conditions, out.Conditions)
	return out
}

// keepTransitionTimes gives each condition in merged whose status is the
// same as in stored the stored lastTransitionTime, as
// meta.SetStatusCondition would have: a copy computed from a stale read
// starts its conditions afresh, and must not make an unchanged condition
// look as if it had just transitioned.
func keepTransitionTimes(stored, merged []metav1.Condition) {
	for i := range merged {
		if c := meta.FindStatusCondition(stored, merged[i].Type); c != nil && c.Status == merged[i].Status {
			merged[i].LastTransitionTime = c.LastTransitionTime
		}
	}
}
