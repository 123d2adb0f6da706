package extension

import (
	"slices"

	"k8s.io/apimachinery/pkg/api/equality"

	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
)

// finalizersChanged passes updates whose finalizers changed, so the pass
// after we add our finalizer (which does not bump generation) runs.
//
// Finalizers are patched with an optimistic lock everywhere: two
// controllers keep finalizers on an Extension, and a merge patch replaces
// the whole list, so a patch from a stale copy would drop the other's.
type finalizersChanged struct {
	predicate.Funcs
}

func (finalizersChanged) Update(e event.UpdateEvent) bool {
	if e.ObjectOld == nil || e.ObjectNew == nil {
		return false
	}
	return !slices.Equal(e.ObjectOld.GetFinalizers(), e.ObjectNew.GetFinalizers()) ||
		!e.ObjectOld.GetDeletionTimestamp().Equal(e.ObjectNew.GetDeletionTimestamp())
}

// flyAnsweredCredentials passes updates where the notifier recorded Fly's
// answer to rotated credentials: the rotation's next step (revocation, or
// the wait for it) depends on it, and status writes pass no other
// predicate.
type flyAnsweredCredentials struct {
	predicate.Funcs
}

func (flyAnsweredCredentials) Update(e event.UpdateEvent) bool {
	o, ok1 := e.ObjectOld.(*jetwayv1.Extension)
	n, ok2 := e.ObjectNew.(*jetwayv1.Extension)
	if !ok1 || !ok2 {
		return false
	}
	answer := func(x *jetwayv1.Extension) *jetwayv1.CredentialsAnnouncement {
		if x.Status.Notification == nil {
			return nil
		}
		return x.Status.Notification.Credentials
	}
	return !equality.Semantic.DeepEqual(answer(o), answer(n))
}
