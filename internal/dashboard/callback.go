package dashboard

import (
	"context"
	"crypto/subtle"
	"net/http"
	"slices"
	"time"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
	"github.com/jetway-dev/jetway/internal/domain"
)

// handleCallback is Fly's redirect back after sign-in: it checks the state
// against this browser's flow cookie, exchanges the code, asks Fly who
// signed in, admits only members of the target's organization, records the
// member, and starts a session.
func (h *Handler) handleCallback(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	state := q.Get("state")
	if state == "" {
		h.page(w, r, http.StatusBadRequest, errorPage("Sign-in failed", "The sign-in link is incomplete: it carries no state. Start again from flyctl.", ""))
		return
	}
	f, ok := h.takeFlow(w, r, state)
	if !ok {
		h.page(w, r, http.StatusBadRequest, errorPage("Sign-in expired",
			"This sign-in was not started in this browser, was already used, or took longer than "+h.cfg.StateTTL.String()+". Start again from flyctl.", ""))
		return
	}
	retry := h.ssoPath(f.Target)
	if e := q.Get("error"); e != "" {
		// Fly said no (e.g. the user pressed Deny). Its words are shown as
		// text (html/template escapes them), shortened so a long one cannot
		// take over the page.
		h.page(w, r, http.StatusForbidden, errorPage("Fly did not sign you in",
			"Fly answered: "+truncate(e+" "+q.Get("error_description"), 200), retry))
		return
	}
	code := q.Get("code")
	if code == "" {
		h.page(w, r, http.StatusBadRequest, errorPage("Sign-in failed", "Fly's answer carries no authorization code.", retry))
		return
	}

	ctx, cancel := context.WithTimeout(r.Context(), h.cfg.FlyTimeout)
	defer cancel()
	tok, err := h.oauth.exchange(ctx, code, f.Verifier)
	if err != nil {
		h.log.Info("Fly refused the authorization code", "error", err.Error())
		h.page(w, r, http.StatusBadGateway, errorPage("Sign-in failed", "Fly did not accept the sign-in. It may have expired; try again.", retry))
		return
	}
	info, err := h.oauth.tokenInfo(ctx, tok)
	if err != nil {
		h.log.Info("Fly's token info failed", "error", err.Error())
		h.page(w, r, http.StatusBadGateway, errorPage("Sign-in failed", "Fly could not tell us who you are right now; try again.", retry))
		return
	}
	if info.Application.UID != "" && info.Application.UID != h.cfg.ClientID {
		// A token minted for another application must not sign anyone in
		// here (token substitution).
		h.log.Info("Token info names another OAuth application", "application", info.Application.UID)
		h.page(w, r, http.StatusForbidden, errorPage("Sign-in failed", "Fly issued this sign-in to another application.", ""))
		return
	}

	orgID, ext, ok := h.resolveTarget(w, r, f.Target)
	if !ok {
		return
	}
	role := roleIn(info, orgID)
	if role == "" {
		h.log.Info("Refused sign-in: not a member of the organization", "user", info.UserID, "organization", orgID)
		h.page(w, r, http.StatusForbidden, notYourOrgPage(info.Email))
		return
	}
	if _, err := domain.EnsureMember(ctx, h.client, h.live, fieldOwner, h.cfg.Domain.Access,
		domain.FlyOrganization{ID: orgID, DisplayName: orgDisplayName(ext)},
		jetwayv1.Member{UserID: info.UserID, Email: info.Email, Role: role}); err != nil {
		h.failure(w, r, err)
		return
	}
	expires := h.now().Add(h.cfg.SessionTTL)
	if info.ExpiresIn > 0 {
		// A session lasts no longer than Fly's own grant would.
		expires = minTime(expires, h.now().Add(time.Duration(info.ExpiresIn)*time.Second))
	}
	s, err := newSession(info, orgID, expires)
	if err != nil {
		h.failure(w, r, err)
		return
	}
	if err := h.writeSession(w, s); err != nil {
		h.failure(w, r, err)
		return
	}
	h.log.Info("Signed in through Fly", "user", info.UserID, "organization", orgID, "role", domain.NormalizeRole(role))
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, h.pagePath(f.Target), http.StatusSeeOther)
}

// takeFlow finds, opens and consumes the flow cookie of state. It fails if
// the cookie is missing, tampered with, expired, or its state was redeemed.
func (h *Handler) takeFlow(w http.ResponseWriter, r *http.Request, state string) (*flow, bool) {
	name := h.cookies.stateCookie(state)
	c, err := r.Cookie(name)
	if err != nil {
		return nil, false
	}
	// The flow is single-use whatever happens next.
	http.SetCookie(w, h.cookies.expire(name))
	var f flow
	if err := h.sealer.open(name, c.Value, &f); err != nil {
		return nil, false
	}
	if subtle.ConstantTimeCompare([]byte(f.State), []byte(state)) != 1 {
		return nil, false
	}
	exp := time.Unix(f.Expires, 0)
	if !h.now().Before(exp) {
		return nil, false
	}
	if !h.used.redeem(state, exp, h.now()) {
		return nil, false
	}
	return &f, true
}

// resolveTarget finds the organization a target belongs to. For an
// extension that is gone it writes the not-found page and reports false.
func (h *Handler) resolveTarget(w http.ResponseWriter, r *http.Request, to target) (string, *jetwayv1.Extension, bool) {
	if to.Kind == targetOrganization {
		// Only an organization that has had an extension here has a page;
		// a sign-in must not create accounts for arbitrary organizations.
		known, err := h.organizationKnown(r.Context(), to.ID)
		if err != nil {
			h.failure(w, r, err)
			return "", nil, false
		}
		if !known {
			h.page(w, r, http.StatusNotFound, notFoundPage())
			return "", nil, false
		}
		return to.ID, nil, true
	}
	ext, ok := h.extensionOrNotFound(w, r, to.ID)
	if !ok {
		return "", nil, false
	}
	return ext.Spec.Organization.ID, ext, true
}

// roleIn is the user's role in orgID according to Fly, or "".
func roleIn(info *TokenInfo, orgID string) string {
	i := slices.IndexFunc(info.Organizations, func(o TokenInfoOrg) bool { return o.ID == orgID })
	if i < 0 {
		return ""
	}
	return domain.NormalizeRole(info.Organizations[i].Role)
}

func orgDisplayName(ext *jetwayv1.Extension) string {
	if ext == nil {
		return ""
	}
	return ext.Spec.Organization.Name
}

func truncate(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
