package gateway

import (
	"fmt"
	"net/http"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
	"github.com/jetway-dev/jetway/internal/domain"
)

// deletedResponse answers a DELETE for an extension that is already gone.
type deletedResponse struct {
	ID      string `json:"id"`
	Name    string `json:"name,omitempty"`
	Message string `json:"message"`
}

// handleDelete answers DELETE /extensions/{id}: 202 while teardown runs,
// 200 once the extension is gone. It is safe to repeat.
func (s *Server) handleDelete(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.readSigned(w, r); !ok {
		return
	}
	id := r.PathValue("id")
	ctx := r.Context()
	ext, err := s.findByID(ctx, id)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	if ext == nil {
		tomb, err := domain.FindTombstone(ctx, s.live, id)
		if err != nil {
			s.internalError(w, r, err)
			return
		}
		if tomb == nil {
			writeError(w, http.StatusNotFound, "not_found", fmt.Sprintf("There is no extension with id %q.", id))
			return
		}
		writeJSON(w, http.StatusOK, deletedResponse{ID: id, Name: tomb.Name, Message: "The extension has been deleted."})
		return
	}
	if ext.DeletionTimestamp.IsZero() {
		// Not reconciled yet, the Extension has no finalizer and goes at once,
		// so no controller will tear it down: write its tombstone here, or
		// Fly's repeated DELETE would get 404 instead of 200, and release
		// its name claim once it is deleted.
		unreconciled := !controllerutil.ContainsFinalizer(ext, jetwayv1.Finalizer)
		if unreconciled {
			if err := domain.WriteTombstone(ctx, s.client, ext, time.Now()); err != nil {
				s.internalError(w, r, err)
				return
			}
		}
		err := s.client.Delete(ctx, ext, client.PropagationPolicy(metav1.DeletePropagationBackground),
			client.Preconditions{UID: &ext.UID})
		if client.IgnoreNotFound(err) != nil {
			s.internalError(w, r, fmt.Errorf("delete extension: %w", err))
			return
		}
		s.writes.wrote(id)
		s.log.Info("Deleting extension", "id", id, "extension", ext.Namespace+"/"+ext.Name)
		if unreconciled {
			if err := domain.ReleaseNameClaim(ctx, s.client, s.live, s.cfg.Domain.ClaimsNamespace, ext.Spec.Name, id); err != nil {
				s.log.Info("Could not release the name claim; the tombstone frees the name anyway", "id", id, "error", err.Error())
			}
		}
		now := metav1.Now()
		ext.DeletionTimestamp = &now
	}
	writeJSON(w, http.StatusAccepted, s.resourceOf(ext))
}
