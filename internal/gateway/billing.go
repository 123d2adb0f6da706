package gateway

import (
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
	books, err := domain.BooksOf(r.Context(), s.client, org)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	statement := billing.Statement{
		OrganizationID: q.organizationID,
		Currency:       s.cfg.Billing.Currency,
		Days:           books.Range(q.from, q.to),
	}
	// The statement writes itself, a day at a time: a large organization's
	// month is megabytes (statement_json.go).
	startJSON(w, http.StatusOK)
	_ = statement.WriteJSON(w) // a failed write is a client gone
}
