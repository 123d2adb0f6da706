package dashboard

import (
	"net/http"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
)

// handleExtensionSSO is the URL flyctl opens for `fly ext <provider>
// dashboard`: straight to the extension's page for a browser already signed
// in to its organization, otherwise through Fly's sign-in.
func (h *Handler) handleExtensionSSO(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	ext, ok := h.extensionOrNotFound(w, r, id)
	if !ok {
		return
	}
	to := target{Kind: targetExtension, ID: id}
	if s, state := h.readSession(r); state == sessionValid && s.RoleIn(ext.Spec.Organization.ID) != "" {
		http.Redirect(w, r, h.pagePath(to), http.StatusFound)
		return
	}
	h.startSignIn(w, r, to, ext.Spec.Organization.ID)
}

// handleOrganizationSSO is the organization-level entry
// (`fly ext <provider> dashboard --org <slug>`): it lands on the list of
// the organization's extensions.
func (h *Handler) handleOrganizationSSO(w http.ResponseWriter, r *http.Request) {
	orgID := r.PathValue("org")
	known, err := h.organizationKnown(r.Context(), orgID)
	if err != nil {
		h.failure(w, r, err)
		return
	}
	if !known {
		h.page(w, r, http.StatusNotFound, notFoundPage())
		return
	}
	to := target{Kind: targetOrganization, ID: orgID}
	if s, state := h.readSession(r); state == sessionValid && s.RoleIn(orgID) != "" {
		http.Redirect(w, r, h.pagePath(to), http.StatusFound)
		return
	}
	h.startSignIn(w, r, to, orgID)
}

// extensionOrNotFound finds the extension with Fly id id. When there is
// none, or the lookup fails, it writes the page saying so and reports false.
func (h *Handler) extensionOrNotFound(w http.ResponseWriter, r *http.Request, id string) (*jetwayv1.Extension, bool) {
	ext, err := h.findExtension(r.Context(), id)
	if err != nil {
		h.failure(w, r, err)
		return nil, false
	}
	if ext == nil {
		h.page(w, r, http.StatusNotFound, notFoundPage())
		return nil, false
	}
	return ext, true
}
