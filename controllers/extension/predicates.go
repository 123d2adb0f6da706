package extension

import (
	"slices"

	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
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
