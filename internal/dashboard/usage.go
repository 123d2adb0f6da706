package dashboard

import (
	"context"
	"fmt"
	"net/http"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
	"github.com/jetway-dev/jetway/internal/billing"
	"github.com/jetway-dev/jetway/internal/domain"
)

// +kubebuilder:rbac:groups=jetway.dev,resources=usageledgers,verbs=get;list;watch
// +kubebuilder:rbac:groups=jetway.dev,resources=billingdays,verbs=get;list;watch

// usageDays is how many days the usage pages show: today and the 30 before
// it, the longest range one billing GET answers.
const usageDays = 31

// handleUsagePage shows an organization's last usageDays days: a chart and
// a table of daily totals, and each extension's total with its drill-down.
func (h *Handler) handleUsagePage(w http.ResponseWriter, r *http.Request) {
	orgID := r.PathValue("org")
	s, days, exts, ok := h.organizationUsage(w, r, orgID)
	if !ok {
		return
	}
	h.page(w, r, http.StatusOK, usagePage(h, s, orgID, days, exts))
}

// organizationUsage admits the user to orgID and reads what both usage
// pages show: its last usageDays days and its extensions. It writes the
// refusal, not-found or failure page and reports false when it cannot.
func (h *Handler) organizationUsage(w http.ResponseWriter, r *http.Request, orgID string) (*Session, []billing.DayEntry, []jetwayv1.Extension, bool) {
	s, ok := h.access(w, r, orgID, target{Kind: targetOrganization, ID: orgID})
	if !ok {
		return nil, nil, nil, false
	}
	days, ok := h.lastDays(w, r, orgID)
	if !ok {
		return nil, nil, nil, false
	}
	exts, err := h.extensionsOf(r.Context(), orgID)
	if err != nil {
		h.failure(w, r, err)
		return nil, nil, nil, false
	}
	return s, days, exts, true
}

// handleExtensionUsagePage shows one extension's items over the last
// usageDays days. The extension is looked for only among the
// organization's own extensions and books, the organization being the one
// access admitted the user to: an id of another organization's extension
// finds nothing here. A deleted extension is still shown while its charges
// are within the days shown.
func (h *Handler) handleExtensionUsagePage(w http.ResponseWriter, r *http.Request) {
	orgID, extID := r.PathValue("org"), r.PathValue("id")
	s, days, exts, ok := h.organizationUsage(w, r, orgID)
	if !ok {
		return
	}
	var ext *jetwayv1.Extension
	for i := range exts {
		if exts[i].Spec.ID == extID {
			ext = &exts[i]
		}
	}
	name := nameInItems(extID, days)
	if ext != nil {
		name = ext.Spec.Name
	}
	if name == "" {
		h.page(w, r, http.StatusNotFound, notFoundPage())
		return
	}
	h.page(w, r, http.StatusOK, extensionUsagePage(h, s, orgID, extID, name, ext, days))
}

// lastDays answers the organization's last usageDays days, today last,
// exactly as GET /billing would: the same books, the same clock. It writes
// the not-found or failure page and reports false when it cannot.
func (h *Handler) lastDays(w http.ResponseWriter, r *http.Request, orgID string) ([]billing.DayEntry, bool) {
	org, err := h.cachedOrganization(r.Context(), orgID)
	if err != nil {
		h.failure(w, r, err)
		return nil, false
	}
	if org == nil {
		h.page(w, r, http.StatusNotFound, notFoundPage())
		return nil, false
	}
	books, err := domain.BooksOf(r.Context(), h.client, org)
	if err != nil {
		h.failure(w, r, err)
		return nil, false
	}
	to := billing.DateOf(h.cfg.Billing.Now())
	from := billing.DateOf(billing.StartOf(to).Add(-(usageDays - 1) * billing.Day))
	return books.Range(from, to), true
}

// cachedOrganization reads the Organization from the cache, where the
// gateway reads it for GET /billing (its status.usage says how far days
// are closed); nil, nil when Jetway has none for orgID.
func (h *Handler) cachedOrganization(ctx context.Context, orgID string) (*jetwayv1.Organization, error) {
	org := &jetwayv1.Organization{}
	err := h.client.Get(ctx, client.ObjectKey{Name: domain.OrganizationName(orgID)}, org)
	switch {
	case apierrors.IsNotFound(err):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("get organization %s: %w", orgID, err)
	case org.Spec.ID != orgID:
		return nil, nil
	}
	return org, nil
}

// nameInItems is the name extID's items carry, "" when it has none.
func nameInItems(extID string, days []billing.DayEntry) string {
	for i := len(days) - 1; i >= 0; i-- {
		for _, it := range days[i].Items {
			if it.ExtensionID == extID {
				return it.ExtensionName
			}
		}
	}
	return ""
}
