package gateway

import (
	"context"
	"fmt"
	"net/http"

	"sigs.k8s.io/controller-runtime/pkg/client"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
	"github.com/jetway-dev/jetway/internal/billing"
	"github.com/jetway-dev/jetway/internal/domain"
)

func objectKey(ext *jetwayv1.Extension) client.ObjectKey {
	return client.ObjectKey{Namespace: ext.Namespace, Name: ext.Name}
}

// handleGet answers GET /extensions/{id} from the Extension's status.
func (s *Server) handleGet(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.readSigned(w, r); !ok {
		return
	}
	id := r.PathValue("id")
	ext, err := s.findForRead(r.Context(), id)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	if ext == nil {
		s.answerMissing(w, r, id)
		return
	}
	usage, err := s.usageToday(r.Context(), ext)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, resourceWithUsage{Resource: s.resourceOf(ext), Usage: usage})
}

// resourceWithUsage is the GET answer: the resource, as webhooks carry it
// too, and the extension's usage today. Webhooks leave usage out: it moves
// with every look, and a webhook per look would flood Fly.
type resourceWithUsage struct {
	domain.Resource
	Usage billing.DayEntry `json:"usage"`
}

// usageToday is the extension's usage so far on the current UTC day.
func (s *Server) usageToday(ctx context.Context, ext *jetwayv1.Extension) (billing.DayEntry, error) {
	return domain.UsageToday(ctx, s.client, ext, s.cfg.Billing.Now())
}

// answerMissing tells a deleted extension from one never seen; both are 404
// to Fly, but the message says which.
func (s *Server) answerMissing(w http.ResponseWriter, r *http.Request, id string) {
	tomb, err := domain.FindTombstone(r.Context(), s.live, id)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	if tomb != nil {
		writeError(w, http.StatusNotFound, "deleted", fmt.Sprintf("Extension %q was deleted.", id))
		return
	}
	writeError(w, http.StatusNotFound, "not_found", fmt.Sprintf("There is no extension with id %q.", id))
}
