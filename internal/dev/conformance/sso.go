package conformance

import (
	"context"
	"net/http"
	"net/url"
	"strings"
)

// The page: flyctl opens GET {base_url}/extensions/{extension_id}/sso in
// the user's browser; a user not signed in is sent to
// https://api.fly.io/oauth/authorize?client_id=…&response_type=code&
// redirect_uri=…&scope=read, with "the organization ID and desired
// permissions scope".

func ssoChecks() []check {
	return []check{
		{"sso.redirect", "GET …/sso from a fresh browser redirects to Fly's OAuth authorize", checkSSORedirect},
		{"sso.organization", "the authorize URL passes the organization ID", checkSSOOrganization},
	}
}

// authorizeURL follows nothing: it asks for the SSO URL as a browser with
// no cookies and returns where it is sent.
func (s *Suite) authorizeURL(ctx context.Context) (*url.URL, *answer, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.target(extPath(s.fixture)+"/sso"), nil)
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("Accept", "text/html")
	c := *s.cfg.HTTP
	c.Jar = nil
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := c.Do(req)
	if err != nil {
		return nil, nil, err
	}
	resp.Body.Close()
	a := &answer{code: resp.StatusCode, header: resp.Header}
	loc, err := resp.Location()
	if err != nil {
		return nil, a, nil
	}
	return loc, a, nil
}

func checkSSORedirect(ctx context.Context, s *Suite) Result {
	if s.cfg.SkipSSO {
		return skip("SSO not checked (--skip-sso)")
	}
	if r, ok := needFixture(s); !ok {
		return r
	}
	loc, a, err := s.authorizeURL(ctx)
	if err != nil {
		return fail("%v", err)
	}
	if a.code < 300 || a.code > 399 || loc == nil {
		return fail("want a redirect, got HTTP %d", a.code)
	}
	if !strings.HasSuffix(loc.Path, "/oauth/authorize") {
		return fail("redirects to %s, not an OAuth authorize URL", loc.Redacted())
	}
	q := loc.Query()
	var missing []string
	for _, p := range []string{"client_id", "redirect_uri"} {
		if q.Get(p) == "" {
			missing = append(missing, p)
		}
	}
	if len(missing) > 0 {
		return fail("the authorize URL has no %s", strings.Join(missing, ", "))
	}
	if q.Get("response_type") != "code" {
		return fail("response_type is %q, want code", q.Get("response_type"))
	}
	if !contains(strings.Fields(q.Get("scope")), "read") {
		return fail("scope is %q, want read (\"Currently, only the read scope is supported\")", q.Get("scope"))
	}
	if _, err := url.Parse(q.Get("redirect_uri")); err != nil {
		return fail("redirect_uri is not a URL")
	}
	return pass("%d to %s://%s%s, client_id, response_type=code, redirect_uri, scope=read", a.code, loc.Scheme, loc.Host, loc.Path)
}

func checkSSOOrganization(ctx context.Context, s *Suite) Result {
	if s.cfg.SkipSSO {
		return skip("SSO not checked (--skip-sso)")
	}
	if r, ok := needFixture(s); !ok {
		return r
	}
	loc, _, err := s.authorizeURL(ctx)
	if err != nil {
		return fail("%v", err)
	}
	if loc == nil {
		return skip("no redirect (see sso.redirect)")
	}
	switch got := loc.Query().Get("organization_id"); got {
	case s.fixtureOrg:
		return pass("organization_id=%s", got)
	case "":
		return info("no organization_id (the page asks for \"the organization ID\" but names no parameter)")
	default:
		return fail("organization_id is %q, the resource's organization is %q", got, s.fixtureOrg)
	}
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
