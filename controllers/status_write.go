package controllers

import (
	"context"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
)

// writeStatus patches the status this controller owns under an optimistic
// lock: the notifier writes a condition of its own and a merge patch
// replaces the whole conditions list, so a stale copy must never win. On a
// conflict (the notifier wrote, or the gateway poked the object with a
// machine event) it re-reads the object and puts its own fields on top of
// the fresh one, rather than failing the pass.
func (r *ExtensionReconciler) writeStatus(ctx context.Context, before, ext *jetwayv1.Extension) error {
	return writeOwnedStatus(ctx, r.Client, r.APIReader, before, ext, ownStatusOnto)
}

// writeOwnedStatus patches ext's status over before under an optimistic
// lock; on a conflict it re-reads (live, not from the cache) and lays the
// writer's own fields, chosen by merge, over the fresh status.
func writeOwnedStatus(ctx context.Context, c client.Client, live client.Reader, before, ext *jetwayv1.Extension,
	merge func(theirs, mine jetwayv1.ExtensionStatus) jetwayv1.ExtensionStatus) error {
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
	return out
}
