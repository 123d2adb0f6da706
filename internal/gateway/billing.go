package gateway

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
	"github.com/jetway-dev/jetway/internal/billing"
	"github.com/jetway-dev/jetway/internal/domain"
)

// handleBilling answers GET /billing: an organization's usage by UTC day,
// final for closed days, so far for the others (docs/billing.md). It reads
// only the cache: the ledgers, the published days and the Organization.
func (s *Server) handleBilling(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.readSigned(w, r); !ok {
		return
	}
	q, err := parseBillingQuery(r.URL.Query(), billing.DateOf(s.cfg.Billing.Now()))
	if err != nil {
		var qe *queryError
		if errors.As(err, &qe) {
			writeError(w, http.StatusBadRequest, "invalid_"+qe.param, qe.message)
			return
		}
		s.internalError(w, r, err)
		return
	}
	org := &jetwayv1.Organization{}
	err = s.client.Get(r.Context(), client.ObjectKey{Name: domain.OrganizationName(q.organizationID)}, org)
	if apierrors.IsNotFound(err) || (err == nil && org.Spec.ID != q.organizationID) {
		writeError(w, http.StatusNotFound, "unknown_organization",
			fmt.Sprintf("The provider has never seen organization %q.", q.organizationID))
		return
	}
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	books, err := s.booksOf(r.Context(), org)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, billing.Statement{
		OrganizationID: q.organizationID,
		Currency:       s.cfg.Billing.Currency,
		Days:           books.Range(q.from, q.to),
	})
}

// booksOf reads an organization's billing objects from the cache.
func (s *Server) booksOf(ctx context.Context, org *jetwayv1.Organization) (billing.Books, error) {
	return domain.BooksOf(ctx, s.client, org)
}
