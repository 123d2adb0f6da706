package oauth

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"

	"github.com/jetway-dev/jetway/internal/dev/flysim/internal/respond"
)

// The OAuth endpoints are Fly's web app, not the Machines API: they
// neither take the Machines API token nor suffer its rate limits, latency
// or faults.

const (
	oauthAuthorizePath = "/oauth/authorize"
	oauthTokenPath     = "/oauth/token"
	oauthInfoPath      = "/oauth/token/info"

	maxOAuthForm = 64 << 10 // a sign-in form or token request is a few hundred bytes
)

// Register mounts the OAuth endpoints on mux, and a catch-all under
// /oauth/ for known paths with the wrong method and unknown ones: without
// it they would fall through to the Machines API's catch-all, which asks
// for the Machines API token first.
func (st *Server) Register(mux *http.ServeMux) {
	handle := func(pattern string, h func(*http.Request) respond.Reply) {
		mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) { respond.Write(w, h(r)) })
	}
	handle("GET "+oauthAuthorizePath, st.authorizePage)
	handle("POST "+oauthAuthorizePath, st.authorizeDecision)
	handle("POST "+oauthTokenPath, st.exchangeCode)
	handle("GET "+oauthInfoPath, st.tokenInfo)
	allowed := map[string]string{
		oauthAuthorizePath: "GET, POST",
		oauthTokenPath:     http.MethodPost,
		oauthInfoPath:      http.MethodGet,
	}
	handle("/oauth/", func(r *http.Request) respond.Reply {
		allow, ok := allowed[r.URL.Path]
		if !ok {
			return respond.Err(http.StatusNotFound, "not found")
		}
		rp := respond.Err(http.StatusMethodNotAllowed, "method not allowed: "+r.Method+" "+r.URL.Path)
		rp.Header = http.Header{"Allow": {allow}}
		return rp
	})
}

// authzRequest is a validated authorization request.
type authzRequest struct {
	client      Client
	redirectURI string
	state       string
	scope       string
	challenge   string // S256 code_challenge; empty without PKCE
}

// authzError is a failed authorization request. Per RFC 6749 §4.1.2.1 it
// is shown to the user on a page when the client or its redirect URI
// cannot be trusted (page), and otherwise sent back to the redirect URI.
type authzError struct {
	page        bool
	status      int // of the page; 0 means 400
	code        string
	description string
}

// checkAuthorize validates the parameters of GET and POST /oauth/authorize
// alike: the POST's hidden fields are as untrusted as the GET's query.
func (st *Server) checkAuthorizeLocked(v url.Values) (authzRequest, *authzError) {
	var req authzRequest
	pageErr := func(code, desc string) (authzRequest, *authzError) {
		return req, &authzError{page: true, code: code, description: desc}
	}
	redirectErr := func(code, desc string) (authzRequest, *authzError) {
		return req, &authzError{code: code, description: desc}
	}
	for _, name := range []string{"client_id", "redirect_uri"} {
		if len(v[name]) > 1 {
			return pageErr("invalid_request", name+" is given more than once.")
		}
	}
	clientID := v.Get("client_id")
	if clientID == "" {
		return pageErr("invalid_request", "client_id is missing.")
	}
	client, ok := st.clients[clientID]
	if !ok {
		return pageErr("invalid_client", fmt.Sprintf("No OAuth application has the client_id %q.", clientID))
	}
	redirectURI := v.Get("redirect_uri")
	if redirectURI == "" {
		return pageErr("invalid_redirect_uri", "redirect_uri is missing; flysim requires it even though the application has registered URIs.")
	}
	if !containsExactly(client.RedirectURIs, redirectURI) {
		return pageErr("invalid_redirect_uri", fmt.Sprintf(
			"redirect_uri %q is not one the application %q registered; it must match one exactly.", redirectURI, clientID))
	}
	// From here on errors go back to the client.
	req = authzRequest{client: client, redirectURI: redirectURI}
	for _, name := range []string{"response_type", "scope", "state", "code_challenge", "code_challenge_method"} {
		if len(v[name]) > 1 {
			return redirectErr("invalid_request", name+" is given more than once.")
		}
	}
	req.state = v.Get("state")
	switch rt := v.Get("response_type"); rt {
	case "code":
	case "":
		return redirectErr("invalid_request", "response_type is missing; it must be code.")
	default:
		return redirectErr("unsupported_response_type", fmt.Sprintf("response_type %q is not supported; it must be code.", rt))
	}
	if req.state == "" {
		return redirectErr("invalid_request", "state is missing; flysim requires it (CSRF protection, RFC 6749 §10.12).")
	}
	if sc := v.Get("scope"); sc != oauthScopeRead {
		return redirectErr("invalid_scope", fmt.Sprintf("scope %q is not supported; Fly only grants read.", sc))
	}
	req.scope = oauthScopeRead
	challenge, method := v.Get("code_challenge"), v.Get("code_challenge_method")
	switch {
	case challenge == "" && method != "":
		return redirectErr("invalid_request", "code_challenge_method is given without a code_challenge.")
	case challenge == "":
	case method != "S256":
		// Doorkeeper would take "plain" (and a missing method means plain);
		// plain protects nothing against an intercepted authorize URL.
		return redirectErr("invalid_request", fmt.Sprintf("code_challenge_method %q is not supported; flysim requires S256.", method))
	case !validChallenge(challenge):
		return redirectErr("invalid_request", "code_challenge must be the 43-character base64url SHA-256 of the code verifier.")
	}
	req.challenge = challenge
	return req, nil
}

func containsExactly(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// validChallenge: an S256 challenge is 32 bytes in unpadded base64url.
func validChallenge(c string) bool {
	if len(c) != 43 {
		return false
	}
	for i := 0; i < len(c); i++ {
		if !isBase64URL(c[i]) {
			return false
		}
	}
	return true
}

func isBase64URL(b byte) bool {
	return b >= 'A' && b <= 'Z' || b >= 'a' && b <= 'z' || b >= '0' && b <= '9' || b == '-' || b == '_'
}

// validVerifier: RFC 7636 §4.1, 43 to 128 unreserved characters.
func validVerifier(v string) bool {
	if len(v) < 43 || len(v) > 128 {
		return false
	}
	for i := 0; i < len(v); i++ {
		if !isBase64URL(v[i]) && v[i] != '.' && v[i] != '~' {
			return false
		}
	}
	return true
}

// authorizePage is GET /oauth/authorize: validate, then show the sign-in
// page.
func (st *Server) authorizePage(r *http.Request) respond.Reply {
	v, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return st.authorizeFailed(authzRequest{}, &authzError{page: true, code: "invalid_request",
			description: "The query string is malformed: " + err.Error()})
	}
	st.mu.Lock()
	req, aerr := st.checkAuthorizeLocked(v)
	users := make([]User, 0, len(st.order))
	for _, id := range st.order {
		users = append(users, st.users[id])
	}
	st.mu.Unlock()
	if aerr != nil {
		return st.authorizeFailed(req, aerr)
	}
	return loginPage(req, users)
}

// authorizeDecision is POST /oauth/authorize, the sign-in page's form: a
// user was picked, or Deny was pressed.
func (st *Server) authorizeDecision(r *http.Request) respond.Reply {
	// A page elsewhere must not be able to sign the browser in on its own
	// (login CSRF). Checked with Sec-Fetch-Site, which browsers send
	// whatever the referrer policy, unlike Origin.
	if err := http.NewCrossOriginProtection().Check(r); err != nil {
		return st.authorizeFailed(authzRequest{}, &authzError{page: true, status: http.StatusForbidden,
			code: "access_denied", description: "The sign-in form was submitted from another site."})
	}
	v, err := readOAuthForm(r)
	if err != nil {
		return st.authorizeFailed(authzRequest{}, &authzError{page: true, code: "invalid_request", description: err.Error()})
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	req, aerr := st.checkAuthorizeLocked(v)
	if aerr != nil {
		return st.authorizeFailedLocked(req, aerr)
	}
	if _, deny := v["deny"]; deny {
		return st.authorizeFailedLocked(req, &authzError{code: "access_denied",
			description: "The resource owner or authorization server denied the request."})
	}
	ids := v["user_id"]
	if len(ids) != 1 || ids[0] == "" {
		return st.authorizeFailedLocked(req, &authzError{page: true, code: "invalid_request",
			description: "Pick exactly one user to sign in as."})
	}
	user, ok := st.users[ids[0]]
	if !ok {
		return st.authorizeFailedLocked(req, &authzError{page: true, code: "invalid_request",
			description: fmt.Sprintf("There is no user %q.", ids[0])})
	}
	code := randomSecret(32)
	now := st.now()
	st.pruneLocked(now)
	st.codes[secretKey(code)] = &oauthCode{
		clientID:    req.client.ID,
		redirectURI: req.redirectURI,
		userID:      user.ID,
		scope:       req.scope,
		challenge:   req.challenge,
		expiresAt:   now.Add(st.codeTTL),
	}
	st.stats.CodesIssued++
	return redirectBack(req.redirectURI, url.Values{"code": {code}, "state": {req.state}})
}

func (st *Server) authorizeFailed(req authzRequest, aerr *authzError) respond.Reply {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.authorizeFailedLocked(req, aerr)
}

func (st *Server) authorizeFailedLocked(req authzRequest, aerr *authzError) respond.Reply {
	st.stats.AuthorizeErrors[aerr.code]++
	if aerr.page {
		status := aerr.status
		if status == 0 {
			status = http.StatusBadRequest
		}
		return errorPage(status, aerr.code, aerr.description)
	}
	q := url.Values{"error": {aerr.code}, "error_description": {aerr.description}}
	if req.state != "" {
		q.Set("state", req.state)
	}
	return redirectBack(req.redirectURI, q)
}

// redirectBack sends the browser to the client's redirect URI with params
// added to whatever query it already has. The URI was checked against the
// registered ones, and those were validated at registration, so it parses.
func redirectBack(redirectURI string, params url.Values) respond.Reply {
	u, err := url.Parse(redirectURI)
	if err != nil {
		return errorPage(http.StatusInternalServerError, "server_error", "The registered redirect URI does not parse: "+err.Error())
	}
	q := u.Query()
	for k, vs := range params {
		q[k] = vs
	}
	u.RawQuery = q.Encode()
	return respond.Reply{Code: http.StatusFound, Header: http.Header{
		"Location":        {u.String()},
		"Cache-Control":   {"no-store"},
		"Referrer-Policy": {"no-referrer"},
	}}
}

// readOAuthForm reads a form-encoded body. Parameters must be in the body
// only: the URL ends up in logs and, for the token endpoint, would carry
// the client secret. Repeated parameters are refused (RFC 6749 §3.1, §3.2).
func readOAuthForm(r *http.Request) (url.Values, error) {
	ct := r.Header.Get("Content-Type")
	if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/x-www-form-urlencoded" {
		return nil, fmt.Errorf("the body must be application/x-www-form-urlencoded, not %q", ct)
	}
	if r.URL.RawQuery != "" {
		return nil, errors.New("parameters must be in the form body, not the URL")
	}
	raw, err := io.ReadAll(io.LimitReader(r.Body, maxOAuthForm+1))
	if err != nil {
		return nil, fmt.Errorf("reading the request body: %w", err)
	}
	if len(raw) > maxOAuthForm {
		return nil, errors.New("the request body is too large")
	}
	v, err := url.ParseQuery(string(raw))
	if err != nil {
		return nil, fmt.Errorf("the form body is malformed: %w", err)
	}
	for name, vs := range v {
		if len(vs) > 1 {
			return nil, fmt.Errorf("%s is given more than once", name)
		}
	}
	return v, nil
}
