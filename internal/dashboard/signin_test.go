package dashboard

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr/testr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
	"github.com/jetway-dev/jetway/internal/domain"
)

const extSSO = "/flyio/extensions/" + testExtID + "/sso"
const extPage = "/flyio/dashboard/extensions/" + testExtID

func TestSignInLandsOnTheExtensionPageAndRecordsTheMember(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	authorize := e.startSignIn(b, extSSO)

	q := authorize.Query()
	for key, want := range map[string]string{"client_id": testClientID, "response_type": "code", "scope": "read", "organization_id": testOrg,
		"redirect_uri": e.url + "/flyio/callback", "code_challenge_method": "S256"} {
		if q.Get(key) != want {
			t.Errorf("authorize %s = %q, want %q", key, q.Get(key), want)
		}
	}
	if len(q.Get("state")) < 40 || len(q.Get("code_challenge")) != 43 {
		t.Errorf("state %q / code_challenge %q are not fresh random values", q.Get("state"), q.Get("code_challenge"))
	}
	// A second sign-in gets a different state and challenge.
	other := e.startSignIn(e.browser(), extSSO).Query()
	if other.Get("state") == q.Get("state") || other.Get("code_challenge") == q.Get("code_challenge") {
		t.Error("two sign-ins share a state or PKCE challenge")
	}

	r := b.get(e.signInAtFly(b, authorize, admin))
	if r.code != http.StatusSeeOther || r.location != extPage {
		t.Fatalf("callback answered %d → %q, want 303 → %s: %s", r.code, r.location, extPage, r.body)
	}
	c := b.cookie(e.url, "jetway_session")
	if c == nil {
		t.Fatal("no session cookie after sign-in")
	}
	if strings.Contains(c.Value, admin.ID) || strings.Contains(c.Value, admin.Email) {
		t.Error("the session cookie shows who signed in: it must be encrypted")
	}

	page := b.get(e.url + extPage)
	if page.code != http.StatusOK {
		t.Fatalf("extension page answered %d: %s", page.code, page.body)
	}
	for _, want := range []string{"orders-db", `id="status" class="status status-ready">ready`, "m-primary-1", "m-replica-1",
		"orders-db.ext.test", "fdaa:0:1::3", "MachineCreated", `id="reveal"`, "Ada Admin"} {
		if !strings.Contains(page.body, want) {
			t.Errorf("the extension page lacks %q", want)
		}
	}
	if strings.Contains(page.body, password) {
		t.Error("the password shows before it is revealed")
	}

	var org jetwayv1.Organization
	if err := e.client.Get(context.Background(), client.ObjectKey{Name: domain.OrganizationName(testOrg)}, &org); err != nil {
		t.Fatal(err)
	}
	if len(org.Spec.Members) != 1 || org.Spec.Members[0] != (jetwayv1.Member{UserID: admin.ID, Email: admin.Email, Role: "admin"}) {
		t.Fatalf("members after sign-in = %+v", org.Spec.Members)
	}
	// Signing in again records nothing new.
	rv := org.ResourceVersion
	e.signIn(e.browser(), extSSO, admin)
	_ = e.client.Get(context.Background(), client.ObjectKey{Name: org.Name}, &org)
	if org.ResourceVersion != rv || len(org.Spec.Members) != 1 {
		t.Fatalf("a repeated sign-in rewrote the Organization: members %+v", org.Spec.Members)
	}

	// Signed in, the SSO URL goes straight to the page without Fly.
	if r := b.get(e.url + extSSO); r.code != http.StatusFound || r.location != extPage {
		t.Fatalf("SSO with a session answered %d → %q", r.code, r.location)
	}
}

func TestOnlyMembersOfTheExtensionsOrganizationAreAdmitted(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	r := e.signIn(b, extSSO, outsider)
	if r.code != http.StatusForbidden || !strings.Contains(r.body, "Not your organization") || !strings.Contains(r.body, outsider.Email) {
		t.Fatalf("outsider's callback answered %d: %s", r.code, r.body)
	}
	if b.cookie(e.url, "jetway_session") != nil {
		t.Fatal("an outsider got a session")
	}
	if p := b.get(e.url + extPage); p.code != http.StatusUnauthorized {
		t.Fatalf("outsider's page view answered %d", p.code)
	}
	var org jetwayv1.Organization
	_ = e.client.Get(context.Background(), client.ObjectKey{Name: domain.OrganizationName(testOrg)}, &org)
	if len(org.Spec.Members) != 0 {
		t.Fatalf("an outsider was recorded as a member: %+v", org.Spec.Members)
	}
}

func TestMembersSeeTheExtensionButCannotRevealItsConnection(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	if r := e.signIn(b, extSSO, member); r.code != http.StatusSeeOther {
		t.Fatalf("member's callback answered %d: %s", r.code, r.body)
	}
	page := b.get(e.url + extPage)
	if page.code != http.StatusOK || !strings.Contains(page.body, "Only admins of this organization") {
		t.Fatalf("member's page answered %d without the admins-only note", page.code)
	}
	r := b.post(e.url+extPage+"/reveal", url.Values{"csrf": {csrfOf(t, page.body)}})
	if r.code != http.StatusForbidden || !strings.Contains(r.body, "Admins only") || strings.Contains(r.body, password) {
		t.Fatalf("member's reveal answered %d: %s", r.code, r.body)
	}
	var org jetwayv1.Organization
	_ = e.client.Get(context.Background(), client.ObjectKey{Name: domain.OrganizationName(testOrg)}, &org)
	if len(org.Spec.Members) != 1 || org.Spec.Members[0].Role != "member" {
		t.Fatalf("members = %+v, want the member recorded as member", org.Spec.Members)
	}
}

func TestAdminsRevealTheConnectionWithAValidCSRFToken(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	e.signIn(b, extSSO, admin)
	page := b.get(e.url + extPage)
	token := csrfOf(t, page.body)

	for name, form := range map[string]url.Values{
		"no token":    {},
		"wrong token": {"csrf": {token[:len(token)-2] + "xx"}},
	} {
		if r := b.post(e.url+extPage+"/reveal", form); r.code != http.StatusForbidden || strings.Contains(r.body, password) {
			t.Errorf("reveal with %s answered %d", name, r.code)
		}
	}
	req, _ := http.NewRequest(http.MethodPost, e.url+extPage+"/reveal", strings.NewReader(url.Values{"csrf": {token}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://evil.example")
	if r := b.do(req); r.code != http.StatusForbidden {
		t.Errorf("reveal from another origin answered %d", r.code)
	}

	r := b.post(e.url+extPage+"/reveal", url.Values{"csrf": {token}})
	want := "postgres://orders:" + password + "@orders-db.ext.test:5432/db"
	if r.code != http.StatusOK || !strings.Contains(r.body, want) {
		t.Fatalf("admin's reveal answered %d without %q: %s", r.code, want, r.body)
	}
	if r.header.Get("Cache-Control") != "no-store" {
		t.Error("a page with credentials may be cached")
	}
}

func TestTamperedAndExpiredSessions(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	e.signIn(b, extSSO, admin)
	good := b.cookie(e.url, "jetway_session")

	u, _ := url.Parse(e.url)
	tampered := *good
	tampered.Value = good.Value[:len(good.Value)-3] + "AAA"
	b.jar.SetCookies(u, []*http.Cookie{&tampered})
	r := b.get(e.url + extPage)
	if r.code != http.StatusUnauthorized || !strings.Contains(r.body, "Sign in with Fly.io") || !strings.Contains(r.body, extSSO) {
		t.Fatalf("a tampered session answered %d: %s", r.code, r.body)
	}
	if b.cookie(e.url, "jetway_session") != nil {
		t.Error("the tampered cookie was not cleared")
	}

	b.jar.SetCookies(u, []*http.Cookie{good})
	if r := b.get(e.url + extPage); r.code != http.StatusOK {
		t.Fatalf("the genuine session answered %d", r.code)
	}
	e.clock.Advance(2*time.Hour + time.Second)
	r = b.get(e.url + extPage)
	if r.code != http.StatusUnauthorized || !strings.Contains(r.body, "Your session has expired") {
		t.Fatalf("an expired session answered %d: %s", r.code, r.body)
	}
	// The SSO URL starts a new sign-in rather than use the old session.
	e.startSignIn(b, extSSO)
}

func TestStateIsSingleUseBoundToTheBrowserAndShortLived(t *testing.T) {
	e := newEnv(t)

	t.Run("callback in another browser", func(t *testing.T) {
		a := e.browser()
		callback := e.signInAtFly(a, e.startSignIn(a, extSSO), admin)
		r := e.browser().get(callback)
		if r.code != http.StatusBadRequest || !strings.Contains(r.body, "Sign-in expired") {
			t.Fatalf("a callback without this browser's flow cookie answered %d: %s", r.code, r.body)
		}
	})

	t.Run("replayed callback", func(t *testing.T) {
		b := e.browser()
		authorize := e.startSignIn(b, extSSO)
		u, _ := url.Parse(e.url)
		flowCookie := b.cookie(e.url, e.h.cookies.stateCookie(authorize.Query().Get("state")))
		if flowCookie == nil {
			t.Fatal("no flow cookie set")
		}
		callback := e.signInAtFly(b, authorize, admin)
		if r := b.get(callback); r.code != http.StatusSeeOther {
			t.Fatalf("first callback answered %d", r.code)
		}
		b.jar.SetCookies(u, []*http.Cookie{flowCookie}) // an attacker who kept the cookie
		if r := b.get(callback); r.code != http.StatusBadRequest {
			t.Fatalf("a replayed callback answered %d", r.code)
		}
	})

	t.Run("state expired", func(t *testing.T) {
		b := e.browser()
		callback := e.signInAtFly(b, e.startSignIn(b, extSSO), admin)
		e.clock.Advance(11 * time.Minute)
		if r := b.get(callback); r.code != http.StatusBadRequest {
			t.Fatalf("a callback after the state's TTL answered %d", r.code)
		}
	})

	t.Run("no state", func(t *testing.T) {
		if r := e.browser().get(e.url + "/flyio/callback?code=abc"); r.code != http.StatusBadRequest {
			t.Fatalf("a callback without state answered %d", r.code)
		}
	})
}

func TestCodesAreSingleUseAndShortLived(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	first := e.signInAtFly(b, e.startSignIn(b, extSSO), admin)
	if r := b.get(first); r.code != http.StatusSeeOther {
		t.Fatalf("first sign-in answered %d", r.code)
	}
	// Replay the used code under a fresh, genuine state of another
	// browser: only Fly can refuse it now.
	code, _ := url.Parse(first)
	thief := e.browser()
	authorize := e.startSignIn(thief, extSSO)
	replay := e.url + "/flyio/callback?" + url.Values{"code": {code.Query().Get("code")}, "state": {authorize.Query().Get("state")}}.Encode()
	if r := thief.get(replay); r.code != http.StatusBadGateway || !strings.Contains(r.body, "Fly did not accept") {
		t.Fatalf("a reused code answered %d: %s", r.code, r.body)
	}
	if thief.cookie(e.url, "jetway_session") != nil {
		t.Fatal("a reused code signed somebody in")
	}

	// A code redeemed after Fly's code lifetime (but within the state's).
	b2 := e.browser()
	late := e.signInAtFly(b2, e.startSignIn(b2, extSSO), admin)
	e.clock.Advance(5 * time.Minute)
	if r := b2.get(late); r.code != http.StatusBadGateway {
		t.Fatalf("an expired code answered %d", r.code)
	}
	if b2.cookie(e.url, "jetway_session") != nil {
		t.Fatal("an expired code signed somebody in")
	}
}

func TestFlyDenial(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	authorize := e.startSignIn(b, extSSO)
	form := authorize.Query()
	form.Set("deny", "1")
	r := b.post(e.flyURL+"/oauth/authorize", form)
	if r.code != http.StatusFound {
		t.Fatalf("deny answered %d", r.code)
	}
	res := b.get(r.location)
	if res.code != http.StatusForbidden || !strings.Contains(res.body, "access_denied") || !strings.Contains(res.body, extSSO) {
		t.Fatalf("a denied sign-in answered %d: %s", res.code, res.body)
	}
}

func TestOrganizationEntryListsItsExtensions(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	r := e.signIn(b, "/flyio/organizations/"+testOrg+"/sso", member)
	if r.code != http.StatusSeeOther || r.location != "/flyio/dashboard/organizations/"+testOrg {
		t.Fatalf("org sign-in answered %d → %q", r.code, r.location)
	}
	page := b.get(e.url + r.location)
	if page.code != http.StatusOK || !strings.Contains(page.body, `data-extension="orders-db"`) || !strings.Contains(page.body, extPage) {
		t.Fatalf("org page answered %d: %s", page.code, page.body)
	}
	// The member's other organization has never had an extension here.
	if r := b.get(e.url + "/flyio/organizations/other/sso"); r.code != http.StatusNotFound {
		t.Fatalf("SSO into an unknown organization answered %d", r.code)
	}
	if r := b.get(e.url + "/flyio/dashboard/organizations/globex"); r.code != http.StatusForbidden {
		t.Fatalf("another organization's page answered %d", r.code)
	}
}

func TestUnknownExtensionAndLogout(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	if r := b.get(e.url + "/flyio/extensions/nope/sso"); r.code != http.StatusNotFound || !strings.Contains(r.body, "Not found") {
		t.Fatalf("SSO for an unknown extension answered %d", r.code)
	}
	e.signIn(b, extSSO, admin)
	if r := b.get(e.url + "/flyio/dashboard/extensions/nope"); r.code != http.StatusNotFound {
		t.Fatalf("an unknown extension's page answered %d", r.code)
	}
	page := b.get(e.url + extPage)
	if r := b.post(e.url+"/flyio/dashboard/logout", url.Values{"csrf": {"forged"}}); r.code != http.StatusForbidden {
		t.Fatalf("logout with a forged token answered %d", r.code)
	}
	if r := b.post(e.url+"/flyio/dashboard/logout", url.Values{"csrf": {csrfOf(t, page.body)}}); r.code != http.StatusOK || !strings.Contains(r.body, "Signed out") {
		t.Fatalf("logout answered %d", r.code)
	}
	if r := b.get(e.url + extPage); r.code != http.StatusUnauthorized {
		t.Fatalf("the page after logout answered %d", r.code)
	}
}

func TestPagesCarrySecurityHeaders(t *testing.T) {
	e := newEnv(t)
	r := e.browser().get(e.url + extPage)
	for k, want := range map[string]string{
		"Content-Security-Policy": contentSecurityPolicy, "X-Frame-Options": "DENY",
		"Referrer-Policy": "same-origin", "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff",
	} {
		if got := r.header.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
}

func TestSignInOffWithoutAClient(t *testing.T) {
	h, err := New(Config{ExternalURL: "http://127.0.0.1:1"}, nil, nil,
		func(context.Context, string) (*jetwayv1.Extension, error) { return nil, nil }, testr.New(t))
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	h.Register(mux)
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, extSSO, nil))
	if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), "not configured sign-in") {
		t.Fatalf("SSO without a client answered %d: %s", rec.Code, rec.Body.String())
	}
	if _, err := New(Config{ExternalURL: "http://x", ClientID: "c", ClientSecret: "s", SessionSecrets: [][]byte{[]byte("short")}}, nil, nil,
		func(context.Context, string) (*jetwayv1.Extension, error) { return nil, nil }, testr.New(t)); err == nil {
		t.Fatal("a short session secret was accepted")
	}
}

func TestAbandonedSignInsDoNotPileUpCookies(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	var states []string
	for i := 0; i < 10; i++ {
		states = append(states, e.startSignIn(b, extSSO).Query().Get("state"))
		e.clock.Advance(time.Second)
	}
	u, _ := url.Parse(e.url)
	flows := 0
	for _, c := range b.jar.Cookies(u) {
		if strings.HasPrefix(c.Name, "jetway_oauth_") {
			flows++
		}
	}
	if flows != maxOpenFlows {
		t.Fatalf("%d flow cookies after 10 abandoned sign-ins, want %d", flows, maxOpenFlows)
	}
	// The newest sign-in still completes; the oldest cannot.
	if b.cookie(e.url, e.h.cookies.stateCookie(states[9])) == nil || b.cookie(e.url, e.h.cookies.stateCookie(states[0])) != nil {
		t.Fatal("pruning kept the wrong flows")
	}
}

func TestPKCEChallengeIsTheS256OfTheFlowsVerifier(t *testing.T) {
	e := newEnv(t)
	raw := e.browser().get(e.url + extSSO)
	if sc := raw.header.Get("Set-Cookie"); !strings.Contains(sc, "HttpOnly") || !strings.Contains(sc, "SameSite=Lax") || !strings.Contains(sc, "Path=/") {
		t.Errorf("flow cookie = %q, want HttpOnly, SameSite=Lax, Path=/", sc)
	}
	b := e.browser()
	q := e.startSignIn(b, extSSO).Query()
	name := e.h.cookies.stateCookie(q.Get("state"))
	c := b.cookie(e.url, name)
	if c == nil {
		t.Fatal("no flow cookie")
	}
	var f flow
	if err := e.h.sealer.open(name, c.Value, &f); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(c.Value, f.Verifier) {
		t.Fatal("the PKCE verifier is readable in the cookie")
	}
	sum := sha256.Sum256([]byte(f.Verifier))
	if want := base64.RawURLEncoding.EncodeToString(sum[:]); q.Get("code_challenge") != want {
		t.Fatalf("code_challenge %q is not S256(verifier) %q", q.Get("code_challenge"), want)
	}
	if f.Target != (target{Kind: targetExtension, ID: testExtID}) || f.State != q.Get("state") {
		t.Fatalf("flow = %+v", f)
	}
}
