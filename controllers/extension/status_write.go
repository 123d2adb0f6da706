package extension

import (
	"context"
	"fmt"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
	"github.com/jetway-dev/jetway/controllers/internal/extstatus"
)

// statusWriter is a pass's only way to write the Extension's status: the
// immediate save of new machine ids, and the one deferred write at the end
// of the pass, both through extstatus.Apply as the Extension controller's
// field manager. It remembers the Extension as the API server holds it
// after this pass's last read or write, so each write is conditional on
// the right resourceVersion.
type statusWriter struct {
	r      *Reconciler
	stored *jetwayv1.Extension
}

func (r *Reconciler) statusWriter(stored *jetwayv1.Extension) *statusWriter {
	return &statusWriter{r: r, stored: stored}
}

// saveMachineIDs writes the machine list at once, the rest of the status as
// stored: Fly's create has no idempotency key, and the id in status is what
// marks a machine as the one to keep should a retried create make a twin.
func (w *statusWriter) saveMachineIDs(ctx context.Context, ext *jetwayv1.Extension) error {
	machines := ext.Status.Machines
	err := w.apply(ctx, func(stored jetwayv1.ExtensionStatus) jetwayv1.ExtensionStatus {
		stored.Machines = machines
		return stored
	}, false)
	if err != nil {
		return fmt.Errorf("save machine ids: %w", err)
	}
	ext.ResourceVersion = w.stored.ResourceVersion
	return nil
}

// write writes the status the pass computed. failing says the pass ended in
// a transient error: then a status that differs from the stored one only in
// wording is not written (see extstatus.WorthWriting).
func (w *statusWriter) write(ctx context.Context, ext *jetwayv1.Extension, failing bool) error {
	return w.apply(ctx, func(jetwayv1.ExtensionStatus) jetwayv1.ExtensionStatus { return ext.Status }, failing)
}

func (w *statusWriter) apply(ctx context.Context, next func(jetwayv1.ExtensionStatus) jetwayv1.ExtensionStatus, failing bool) error {
	stored, err := extstatus.Apply(ctx, w.r.Client, w.r.APIReader, extstatus.ExtensionController, w.stored, next, failing)
	w.stored = stored
	return err
}

// FieldOwner is the field manager of everything the Extension controller
// writes; the manager gives the controller a client that writes as it.
var FieldOwner = extstatus.ExtensionController.Manager
