package extstatus

import (
	"context"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
	"github.com/jetway-dev/jetway/controllers/internal/ssa"
)

// maxConflicts is how many times a write is computed afresh after the
// object moved on under it before the pass gives up (and is retried).
const maxConflicts = 3

// Apply is the one path by which Extension status is written. It applies
// owner's part of next(stored.Status), server-side, under owner's field
// manager, and returns the Extension as the API server then holds it
// (stored itself when nothing was worth writing).
//
// The apply is conditional on stored's resourceVersion: a pass that read a
// cached copy older than the last write must not put what it computed from
// that copy over newer news. On a conflict the object is read live and
// next is asked again with the fresh status, conditions keep their stored
// transition times unless their status changed, and the write happens only
// if WorthWriting still says so (failing as for WorthWriting): a pass that
// started from a stale copy often computed exactly what is already stored.
// The other writer's fields are never sent, so they need no merging.
func Apply(ctx context.Context, c client.Client, live client.Reader, owner Owner, stored *jetwayv1.Extension,
	next func(stored jetwayv1.ExtensionStatus) jetwayv1.ExtensionStatus, failing bool) (*jetwayv1.Extension, error) {
	for conflicts := 0; ; conflicts++ {
		want, worth := owner.toWrite(stored.Status, next(stored.Status), failing)
		if !worth {
			return stored, nil
		}
		applied, err := ssa.ApplyStatus(ctx, c, stored, owner.Manager, stored.ResourceVersion, owner.body(want))
		if err == nil {
			return applied.(*jetwayv1.Extension), nil
		}
		if !apierrors.IsConflict(err) || conflicts == maxConflicts {
			return stored, err
		}
		fresh := &jetwayv1.Extension{}
		if err := live.Get(ctx, client.ObjectKeyFromObject(stored), fresh); err != nil {
			return stored, err
		}
		stored = fresh
	}
}

// toWrite is owner's part of next as it would be applied over stored, and
// whether it is worth writing.
func (o Owner) toWrite(stored, next jetwayv1.ExtensionStatus, failing bool) (jetwayv1.ExtensionStatus, bool) {
	have, want := o.Part(stored), o.Part(next)
	keepTransitionTimes(have.Conditions, want.Conditions)
	return want, WorthWriting(have, want, failing)
}
