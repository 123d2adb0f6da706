package dashboard

import (
	"net/http"

	"github.com/jetway-dev/jetway/internal/domain"
)

// maxFormBytes bounds the dashboard's form posts, which carry one token.
const maxFormBytes = 4 << 10

// handleOrganizationPage lists an organization's extensions.
func (h *Handler) handleOrganizationPage(w http.ResponseWriter, r *http.Request) {
	orgID := r.PathValue("org")
	to := target{Kind: targetOrganization, ID: orgID}
	s, ok := h.access(w, r, orgID, to)
	if !ok {
		return
	}
	exts, err := h.extensionsOf(r.Context(), orgID)
	if err != nil {
		h.failure(w, r, err)
		return
	}
	h.page(w, r, http.StatusOK, organizationPage(h, s, orgID, exts))
}

// handleExtensionPage shows one extension, its connection details hidden.
func (h *Handler) handleExtensionPage(w http.ResponseWriter, r *http.Request) {
	h.showExtension(w, r, false)
}

// handleReveal shows the extension page with its connection details, to
// admins of its organization only.
func (h *Handler) handleReveal(w http.ResponseWriter, r *http.Request) {
	h.showExtension(w, r, true)
}

func (h *Handler) showExtension(w http.ResponseWriter, r *http.Request, reveal bool) {
	id := r.PathValue("id")
	ext, ok := h.extensionOrNotFound(w, r, id)
	if !ok {
		return
	}
	orgID := ext.Spec.Organization.ID
	s, ok := h.access(w, r, orgID, target{Kind: targetExtension, ID: id})
	if !ok {
		return
	}
	var connection map[string]string
	if reveal {
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
		if !h.csrfOK(r, s) {
			h.page(w, r, http.StatusForbidden, errorPage("Request refused",
				"This form was stale or did not come from this dashboard. Reload the page and try again.", ""))
			return
		}
		if !isAdmin(s, orgID) {
			h.page(w, r, http.StatusForbidden, errorPage("Admins only",
				"Only admins of this organization can see the connection details. Ask an admin of the organization on Fly.io.",
				h.pagePath(target{Kind: targetExtension, ID: id})))
			return
		}
		var err error
		connection, err = h.connectionDetails(r.Context(), ext)
		if err != nil {
			h.failure(w, r, err)
			return
		}
		// An audit trail of who saw a database's credentials.
		h.log.Info("Revealed connection details", "extension", id, "user", s.UserID, "organization", orgID)
	}
	events, err := h.recentEvents(r.Context(), ext)
	if err != nil {
		// The page is still useful without its events.
		h.log.Error(err, "Listing an extension's events failed", "extension", id)
	}
	var today *todayView
	if day, err := domain.UsageToday(r.Context(), h.client, ext, h.cfg.Billing.Now()); err != nil {
		// Nor does it need today's usage to be useful.
		h.log.Error(err, "Reading an extension's usage today failed", "extension", id)
	} else {
		today = todayOf(h, ext, day)
	}
	h.page(w, r, http.StatusOK, extensionPage(h, s, ext, events, connection, today))
}

// handleLogout ends the session.
func (h *Handler) handleLogout(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	s, state := h.readSession(r)
	if state == sessionValid && !h.csrfOK(r, s) {
		h.page(w, r, http.StatusForbidden, errorPage("Request refused",
			"This form was stale or did not come from this dashboard. Reload the page and try again.", ""))
		return
	}
	h.clearSession(w)
	h.page(w, r, http.StatusOK, signedOutPage())
}
