package gateway

import (
	"fmt"
	"net/http"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/jetway-dev/jetway/internal/provision"
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
		tomb, err := provision.FindTombstone(ctx, s.live, id)
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
		err := s.client.Delete(ctx, ext, client.PropagationPolicy(metav1.DeletePropagationBackground),
			client.Preconditions{UID: &ext.UID})
		if client.IgnoreNotFound(err) != nil {
			s.internalError(w, r, fmt.Errorf("delete extension: %w", err))
			return
		}
		s.log.Info("Deleting extension", "id", id, "extension", ext.Namespace+"/"+ext.Name)
		now := metav1.Now()
		ext.DeletionTimestamp = &now
	}
	writeJSON(w, http.StatusAccepted, s.resourceOf(ext))
}
