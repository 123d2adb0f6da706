package oauth

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/jetway-dev/jetway/internal/dev/flysim/internal/flysimtest"
)

const (
	oauthTestClient   = "logjam"
	oauthTestSecret   = "logjam-secret"
	oauthTestRedirect = "https://logjam.example/auth/fly/callback?from=fly"
)

type oauthEnv struct {
	t     *testing.T
	sim   *Server
	srv   *httptest.Server
	clock *flysimtest.Clock
	conf  *oauth2.Config
	ctx   context.Context // carries the client oauth2 uses
	// browser never follows redirects: the test reads Location itself.
	browser *http.Client
}

func newOAuthEnv(t *testing.T) *oauthEnv {
	t.Helper()
	t.Parallel()
	clock := flysimtest.NewClock(time.Date(2023, 5, 10, 16, 0, 0, 0, time.UTC))
	sim := New(Options{
		Clients: []Client{{ID: oauthTestClient, Secret: oauthTestSecret, RedirectURIs: []string{"https://other.example/cb", oauthTestRedirect}}},
		Users:   DefaultUsers(),
	}, clock.Now)
	mux := http.NewServeMux()
	sim.Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	browser := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return &oauthEnv{
		t: t, sim: sim, srv: srv, clock: clock, browser: browser,
		ctx: context.WithValue(ctx, oauth2.HTTPClient, srv.Client()),
		conf: &oauth2.Config{
			ClientID:     oauthTestClient,
			ClientSecret: oauthTestSecret,
			Endpoint: oauth2.Endpoint{
				AuthURL:   srv.URL + "/oauth/authorize",
				TokenURL:  srv.URL + "/oauth/token",
				AuthStyle: oauth2.AuthStyleInParams,
			},
			RedirectURL: oauthTestRedirect,
			Scopes:      []string{"read"},
		},
	}
}

func (e *oauthEnv) get(rawURL string) (*http.Response, string) {
	e.t.Helper()
	resp, err := e.browser.Get(rawURL)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp, readAll(e.t, resp)
}

func (e *oauthEnv) postForm(path string, v url.Values) (*http.Response, string) {
	e.t.Helper()
	resp, err := e.browser.PostForm(e.srv.URL+path, v)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp, readAll(e.t, resp)
}

func readAll(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

var hiddenField = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)

// signIn loads the sign-in page at authURL, submits its form as the user
// with the given id (as a browser would, hidden fields and all) and returns
// the redirect it gets.
func (e *oauthEnv) signIn(authURL, userID string) *url.URL {
	e.t.Helper()
	resp, page := e.get(authURL)
	if resp.StatusCode != http.StatusOK {
		e.t.Fatalf("GET authorize: %d %s", resp.StatusCode, page)
	}
	if !strings.Contains(page, `id="login-`+userID+`"`) {
		e.t.Fatalf("sign-in page has no button for %s:\n%s", userID, page)
	}
	form := url.Values{"user_id": {userID}}
	for _, m := range hiddenField.FindAllStringSubmatch(page, -1) {
		form.Set(m[1], html.UnescapeString(m[2]))
	}
	return e.submit(form)
}

func (e *oauthEnv) submit(form url.Values) *url.URL {
	e.t.Helper()
	resp, body := e.postForm("/oauth/authorize", form)
	if resp.StatusCode != http.StatusFound {
		e.t.Fatalf("POST authorize: %d, want 302: %s", resp.StatusCode, body)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		e.t.Fatal(err)
	}
	return loc
}

// code runs the browser half of the flow for Ada and returns the code.
func (e *oauthEnv) code(opts ...oauth2.AuthCodeOption) string {
	e.t.Helper()
	loc := e.signIn(e.conf.AuthCodeURL("st", opts...), adaID)
	code := loc.Query().Get("code")
	if code == "" {
		e.t.Fatalf("no code in %s", loc)
	}
	return code
}

// tokenInfo calls GET /oauth/token/info and decodes the JSON answer.
func (e *oauthEnv) tokenInfo(token string) (int, map[string]any) {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodGet, e.srv.URL+"/oauth/token/info", nil)
	if err != nil {
		e.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := e.browser.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	var out map[string]any
	if err := json.Unmarshal([]byte(readAll(e.t, resp)), &out); err != nil {
		e.t.Fatalf("token/info body: %v", err)
	}
	return resp.StatusCode, out
}

// wantOAuthError checks err is an RFC 6749 error response.
func wantOAuthError(t *testing.T, err error, status int, code string) {
	t.Helper()
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		t.Fatalf("error %v, want a %s RetrieveError", err, code)
	}
	if re.Response.StatusCode != status || re.ErrorCode != code || re.ErrorDescription == "" {
		t.Fatalf("got %d %q (%q), want %d %s with a description", re.Response.StatusCode, re.ErrorCode, re.ErrorDescription, status, code)
	}
}

var adaID = DefaultUsers()[0].ID

func TestOAuthHappyPathPKCE(t *testing.T) {
	e := newOAuthEnv(t)
	verifier := oauth2.GenerateVerifier()
	state := "s t/ä&x=1" // echoed verbatim however it needs escaping
	loc := e.signIn(e.conf.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier)), adaID)

	if got := loc.Scheme + "://" + loc.Host + loc.Path; got != "https://logjam.example/auth/fly/callback" {
		t.Fatalf("redirected to %s", loc)
	}
	q := loc.Query()
	if q.Get("state") != state || q.Get("from") != "fly" || len(q.Get("code")) != 43 {
		t.Fatalf("redirect query %v: want state, the registered query and a 43-char code", q)
	}
	tok, err := e.conf.Exchange(e.ctx, q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(tok.AccessToken, "fo1_") || tok.RefreshToken == "" || tok.TokenType != "Bearer" {
		t.Fatalf("token %+v", tok)
	}
	if tok.Extra("scope") != "read" || tok.Extra("created_at") != float64(e.clock.Now().Unix()) {
		t.Fatalf("scope %v created_at %v", tok.Extra("scope"), tok.Extra("created_at"))
	}
	if tok.ExpiresIn != 7200 {
		t.Fatalf("expires_in %d, want 7200", tok.ExpiresIn)
	}
	status, info := e.tokenInfo(tok.AccessToken)
	if status != http.StatusOK || info["email"] != "h2v7q0c9m4tz8kx1@customer.fly.io" {
		t.Fatalf("token/info %d %v", status, info)
	}
	st := e.sim.Stats()
	if st.CodesIssued != 1 || st.TokensIssued != 1 || st.InfosServed != 1 || len(st.TokenErrors) != 0 {
		t.Fatalf("stats %+v", st)
	}
}

func TestOAuthTokenInfoShape(t *testing.T) {
	e := newOAuthEnv(t)
	issued := e.clock.Now()
	tok, err := e.conf.Exchange(e.ctx, e.code())
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(10 * time.Minute)
	status, info := e.tokenInfo(tok.AccessToken)
	if status != http.StatusOK {
		t.Fatalf("token/info %d %v", status, info)
	}
	want := map[string]any{
		"resource_owner_id": adaID,
		"user_id":           adaID,
		"user_name":         "Ada Admin",
		"email":             "h2v7q0c9m4tz8kx1@customer.fly.io",
		"organizations":     []any{map[string]any{"id": "acme", "role": "admin"}},
		"scope":             []any{"read"},
		"expires_in":        float64(7200 - 600),
		"application":       map[string]any{"uid": oauthTestClient},
		"created_at":        float64(issued.Unix()),
	}
	for k, w := range want {
		got, _ := json.Marshal(info[k])
		wantJSON, _ := json.Marshal(w)
		if string(got) != string(wantJSON) {
			t.Errorf("%s = %s, want %s", k, got, wantJSON)
		}
	}
	if len(info) != len(want) {
		t.Errorf("token/info has %d keys, want %d: %v", len(info), len(want), info)
	}
}

func TestOAuthAuthorizeUntrustedRedirect(t *testing.T) {
	e := newOAuthEnv(t)
	good := url.Values{"client_id": {oauthTestClient}, "response_type": {"code"}, "redirect_uri": {oauthTestRedirect}, "scope": {"read"}, "state": {"s"}}
	for name, change := range map[string]func(url.Values){
		"unknown client":        func(v url.Values) { v.Set("client_id", "nope") },
		"no client":             func(v url.Values) { v.Del("client_id") },
		"mismatched redirect":   func(v url.Values) { v.Set("redirect_uri", "https://evil.example/cb") },
		"redirect prefix":       func(v url.Values) { v.Set("redirect_uri", oauthTestRedirect+"&x=1") },
		"no redirect":           func(v url.Values) { v.Del("redirect_uri") },
		"two redirects":         func(v url.Values) { v.Add("redirect_uri", oauthTestRedirect) },
		"bad everything else":   func(v url.Values) { v.Set("client_id", "nope"); v.Set("scope", "write") },
		"redirect case differs": func(v url.Values) { v.Set("redirect_uri", strings.ToUpper(oauthTestRedirect)) },
	} {
		v := url.Values{}
		for k, vs := range good {
			v[k] = append([]string(nil), vs...)
		}
		change(v)
		resp, body := e.get(e.srv.URL + "/oauth/authorize?" + v.Encode())
		if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" ||
			!strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") || !strings.Contains(body, "Sign-in failed") {
			t.Errorf("%s: %d Location=%q Content-Type=%q, want a 400 page and no redirect",
				name, resp.StatusCode, resp.Header.Get("Location"), resp.Header.Get("Content-Type"))
		}
		// The POST is checked the same way: hidden fields are not trusted.
		v.Set("user_id", adaID)
		if resp, _ := e.postForm("/oauth/authorize", v); resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" {
			t.Errorf("%s: POST got %d Location=%q, want a 400 page", name, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
	if n := e.sim.Stats().CodesIssued; n != 0 {
		t.Fatalf("%d codes issued", n)
	}
}

func TestOAuthAuthorizeErrorsRedirect(t *testing.T) {
	e := newOAuthEnv(t)
	for _, tc := range []struct {
		name, param, value, want string
	}{
		{"wrong scope", "scope", "read write", "invalid_scope"},
		{"no scope", "scope", "", "invalid_scope"},
		{"implicit flow", "response_type", "token", "unsupported_response_type"},
		{"plain PKCE", "code_challenge_method", "plain", "invalid_request"},
		{"short challenge", "code_challenge", "abc", "invalid_request"},
		{"no state", "state", "", "invalid_request"},
	} {
		v := url.Values{"client_id": {oauthTestClient}, "response_type": {"code"}, "redirect_uri": {oauthTestRedirect},
			"scope": {"read"}, "state": {"xyz"}, "code_challenge": {s256(oauth2.GenerateVerifier())}, "code_challenge_method": {"S256"}}
		v.Set(tc.param, tc.value)
		resp, _ := e.get(e.srv.URL + "/oauth/authorize?" + v.Encode())
		loc, err := url.Parse(resp.Header.Get("Location"))
		if resp.StatusCode != http.StatusFound || err != nil || !strings.HasPrefix(loc.String(), "https://logjam.example/auth/fly/callback?") {
			t.Errorf("%s: %d Location=%q, want a redirect to the client", tc.name, resp.StatusCode, resp.Header.Get("Location"))
			continue
		}
		q := loc.Query()
		if q.Get("error") != tc.want || q.Get("error_description") == "" || q.Get("state") != v.Get("state") || q.Has("code") {
			t.Errorf("%s: redirect query %v, want error=%s and the state", tc.name, q, tc.want)
		}
	}
	if got := e.sim.Stats().AuthorizeErrors["invalid_scope"]; got != 2 {
		t.Fatalf("invalid_scope counted %d times, want 2", got)
	}
}

func TestOAuthDeny(t *testing.T) {
	e := newOAuthEnv(t)
	resp, page := e.get(e.conf.AuthCodeURL("st8"))
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, `id="deny"`) {
		t.Fatalf("sign-in page %d without a Deny button", resp.StatusCode)
	}
	for _, h := range []string{"Cache-Control", "Referrer-Policy"} {
		if resp.Header.Get(h) == "" {
			t.Errorf("sign-in page has no %s", h)
		}
	}
	form := url.Values{"deny": {"1"}}
	for _, m := range hiddenField.FindAllStringSubmatch(page, -1) {
		form.Set(m[1], html.UnescapeString(m[2]))
	}
	loc := e.submit(form)
	if q := loc.Query(); q.Get("error") != "access_denied" || q.Get("state") != "st8" || q.Has("code") {
		t.Fatalf("deny redirected to %s", loc)
	}
}

func TestOAuthLoginPageEscapes(t *testing.T) {
	e := newOAuthEnv(t)
	e.sim.AddUser(User{ID: "x1", Name: `<script>alert(1)</script>`, Email: `a"b@customer.fly.io`})
	_, page := e.get(e.conf.AuthCodeURL(`"><script>`))
	if strings.Contains(page, "<script>") || !strings.Contains(page, `id="login-x1"`) {
		t.Fatalf("page not escaped or new user missing:\n%s", page)
	}
	loc := e.signIn(e.conf.AuthCodeURL(`"><script>`), "x1")
	if loc.Query().Get("state") != `"><script>` {
		t.Fatalf("state came back as %q", loc.Query().Get("state"))
	}
}

func TestOAuthUnknownUser(t *testing.T) {
	e := newOAuthEnv(t)
	v := url.Values{"client_id": {oauthTestClient}, "response_type": {"code"}, "redirect_uri": {oauthTestRedirect},
		"scope": {"read"}, "state": {"s"}, "user_id": {"nobody"}}
	if resp, _ := e.postForm("/oauth/authorize", v); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("unknown user: %d, want 400", resp.StatusCode)
	}
}

func TestOAuthReusedCodeRevokesToken(t *testing.T) {
	e := newOAuthEnv(t)
	code := e.code()
	tok, err := e.conf.Exchange(e.ctx, code)
	if err != nil {
		t.Fatal(err)
	}
	if status, _ := e.tokenInfo(tok.AccessToken); status != http.StatusOK {
		t.Fatalf("token/info %d before the replay", status)
	}
	_, err = e.conf.Exchange(e.ctx, code)
	wantOAuthError(t, err, http.StatusBadRequest, "invalid_grant")
	status, body := e.tokenInfo(tok.AccessToken)
	if status != http.StatusUnauthorized || body["error"] != "invalid_token" {
		t.Fatalf("token/info after the replay: %d %v, want 401 invalid_token", status, body)
	}
	if st := e.sim.Stats(); st.TokensRevoked != 1 || st.TokenErrors["invalid_grant"] != 1 {
		t.Fatalf("stats %+v", st)
	}
}

func TestOAuthExpiredCode(t *testing.T) {
	e := newOAuthEnv(t)
	code := e.code()
	e.clock.Advance(defaultOAuthCodeTTL)
	_, err := e.conf.Exchange(e.ctx, code)
	wantOAuthError(t, err, http.StatusBadRequest, "invalid_grant")
}

func TestOAuthWrongVerifier(t *testing.T) {
	e := newOAuthEnv(t)
	code := e.code(oauth2.S256ChallengeOption(oauth2.GenerateVerifier()))
	_, err := e.conf.Exchange(e.ctx, code, oauth2.VerifierOption(oauth2.GenerateVerifier()))
	wantOAuthError(t, err, http.StatusBadRequest, "invalid_grant")
}

func TestOAuthMissingVerifier(t *testing.T) {
	e := newOAuthEnv(t)
	verifier := oauth2.GenerateVerifier()
	code := e.code(oauth2.S256ChallengeOption(verifier))
	_, err := e.conf.Exchange(e.ctx, code)
	wantOAuthError(t, err, http.StatusBadRequest, "invalid_grant")
	// A failed attempt burns the code, even for the right verifier.
	_, err = e.conf.Exchange(e.ctx, code, oauth2.VerifierOption(verifier))
	wantOAuthError(t, err, http.StatusBadRequest, "invalid_grant")
}

func TestOAuthVerifierWithoutChallenge(t *testing.T) {
	e := newOAuthEnv(t)
	_, err := e.conf.Exchange(e.ctx, e.code(), oauth2.VerifierOption(oauth2.GenerateVerifier()))
	wantOAuthError(t, err, http.StatusBadRequest, "invalid_grant")
}

func TestOAuthRedirectURIMismatchOnExchange(t *testing.T) {
	e := newOAuthEnv(t)
	code := e.code()
	conf := *e.conf
	conf.RedirectURL = "https://other.example/cb" // registered, but not the one used
	_, err := conf.Exchange(e.ctx, code)
	wantOAuthError(t, err, http.StatusBadRequest, "invalid_grant")
}

func TestOAuthWrongClientSecret(t *testing.T) {
	e := newOAuthEnv(t)
	code := e.code()
	for _, style := range []oauth2.AuthStyle{oauth2.AuthStyleInParams, oauth2.AuthStyleInHeader} {
		conf := *e.conf
		conf.ClientSecret = "wrong"
		conf.Endpoint.AuthStyle = style
		_, err := conf.Exchange(e.ctx, code)
		wantOAuthError(t, err, http.StatusUnauthorized, "invalid_client")
	}
	conf := *e.conf
	conf.ClientID = "nope"
	_, err := conf.Exchange(e.ctx, code)
	wantOAuthError(t, err, http.StatusUnauthorized, "invalid_client")
	// The code survives an unauthenticated attempt, and Basic works.
	conf = *e.conf
	conf.Endpoint.AuthStyle = oauth2.AuthStyleInHeader
	if _, err := conf.Exchange(e.ctx, code); err != nil {
		t.Fatalf("exchange with Basic auth after failures: %v", err)
	}
	if got := e.sim.Stats().TokenErrors["invalid_client"]; got != 3 {
		t.Fatalf("invalid_client counted %d times, want 3", got)
	}
}

func TestOAuthTokenRequestChecks(t *testing.T) {
	e := newOAuthEnv(t)
	post := func(contentType, body string, basic bool) (int, string) {
		req, err := http.NewRequest(http.MethodPost, e.srv.URL+"/oauth/token", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", contentType)
		if basic {
			req.SetBasicAuth(oauthTestClient, oauthTestSecret)
		}
		resp, err := e.browser.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var out struct{ Error string }
		_ = json.Unmarshal([]byte(readAll(t, resp)), &out)
		if resp.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("no Cache-Control: no-store on a token answer")
		}
		return resp.StatusCode, out.Error
	}
	auth := "client_id=" + oauthTestClient + "&client_secret=" + oauthTestSecret
	for _, tc := range []struct {
		name, contentType, body string
		basic                   bool
		status                  int
		want                    string
	}{
		{"JSON body", "application/json", `{"grant_type":"authorization_code"}`, false, 400, "invalid_request"},
		{"no grant type", "application/x-www-form-urlencoded", auth, false, 400, "invalid_request"},
		{"refresh grant", "application/x-www-form-urlencoded", auth + "&grant_type=refresh_token&refresh_token=x", false, 400, "unsupported_grant_type"},
		{"no code", "application/x-www-form-urlencoded", auth + "&grant_type=authorization_code&redirect_uri=x", false, 400, "invalid_request"},
		{"repeated code", "application/x-www-form-urlencoded", auth + "&grant_type=authorization_code&code=a&code=b", false, 400, "invalid_request"},
		{"two auth methods", "application/x-www-form-urlencoded", auth + "&grant_type=authorization_code&code=a", true, 400, "invalid_request"},
		{"no client", "application/x-www-form-urlencoded", "grant_type=authorization_code&code=a", false, 401, "invalid_client"},
		{"unknown code", "application/x-www-form-urlencoded", "grant_type=authorization_code&code=a&redirect_uri=" + url.QueryEscape(oauthTestRedirect), true, 400, "invalid_grant"},
	} {
		if status, code := post(tc.contentType, tc.body, tc.basic); status != tc.status || code != tc.want {
			t.Errorf("%s: %d %q, want %d %s", tc.name, status, code, tc.status, tc.want)
		}
	}
}

func TestOAuthExpiredToken(t *testing.T) {
	e := newOAuthEnv(t)
	tok, err := e.conf.Exchange(e.ctx, e.code())
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(2*time.Hour - time.Second)
	if status, info := e.tokenInfo(tok.AccessToken); status != http.StatusOK || info["expires_in"] != float64(1) {
		t.Fatalf("a second before expiry: %d %v", status, info)
	}
	e.clock.Advance(time.Second)
	status, body := e.tokenInfo(tok.AccessToken)
	if status != http.StatusUnauthorized || body["error"] != "invalid_token" {
		t.Fatalf("expired token: %d %v, want 401 invalid_token", status, body)
	}
	for _, tok := range []string{"", "fo1_" + base64.RawURLEncoding.EncodeToString(make([]byte, 32))} {
		if status, body := e.tokenInfo(tok); status != http.StatusUnauthorized || body["error"] != "invalid_token" {
			t.Errorf("token %q: %d %v, want 401 invalid_token", tok, status, body)
		}
	}
}
