package flysim

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// The OAuth endpoints sit on the mux directly, not behind Server.handle:
// they are Fly's web app, not the Machines API, so they neither take the
// Machines API token nor suffer its rate limits, latency or faults.

const (
	oauthAuthorizePath = "/oauth/authorize"
	oauthTokenPath     = "/oauth/token"
	oauthInfoPath      = "/oauth/token/info"

	maxOAuthForm = 64 << 10 // a sign-in form or token request is a few hundred bytes
)

func (s *Server) oauthRoutes() {
	if s.opts.OAuth != nil {
		s.oauth = newOAuthState(*s.opts.OAuth)
	}
	s.mux.HandleFunc("GET "+oauthAuthorizePath, s.oauthOn(s.authorizePage))
	s.mux.HandleFunc("POST "+oauthAuthorizePath, s.oauthOn(s.authorizeDecision))
	s.mux.HandleFunc("POST "+oauthTokenPath, s.oauthOn(s.exchangeCode))
	s.mux.HandleFunc("GET "+oauthInfoPath, s.oauthOn(s.tokenInfo))
	// Known paths with the wrong method, and unknown ones. Without this they
	// would fall through to the Machines API's catch-all, which asks for
	// the Machines API token first.
	allowed := map[string]string{
		oauthAuthorizePath: "GET, POST",
		oauthTokenPath:     http.MethodPost,
		oauthInfoPath:      http.MethodGet,
	}
	s.mux.HandleFunc("/oauth/", s.oauthOn(func(r *http.Request) reply {
		allow, ok := allowed[r.URL.Path]
		if !ok {
			return errReply(http.StatusNotFound, "not found")
		}
		rp := errReply(http.StatusMethodNotAllowed, "method not allowed: "+r.Method+" "+r.URL.Path)
		rp.header = http.Header{"Allow": {allow}}
		return rp
	}))
}

// oauthOn answers 404, as for any unknown route, when OAuth is off.
func (s *Server) oauthOn(h func(*http.Request) reply) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.oauth == nil {
			writeReply(w, errReply(http.StatusNotFound, "not found"))
			return
		}
		writeReply(w, h(r))
	}
}

// authzRequest is a validated authorization request.
type authzRequest struct {
	client      OAuthClient
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
func (st *oauthState) checkAuthorizeLocked(v url.Values) (authzRequest, *authzError) {
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
func (s *Server) authorizePage(r *http.Request) reply {
	st := s.oauth
	v, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return st.authorizeFailed(authzRequest{}, &authzError{page: true, code: "invalid_request",
			description: "The query string is malformed: " + err.Error()})
	}
	st.mu.Lock()
	req, aerr := st.checkAuthorizeLocked(v)
	users := make([]OAuthUser, 0, len(st.order))
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
func (s *Server) authorizeDecision(r *http.Request) reply {
	st := s.oauth
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
	now := s.now()
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

func (st *oauthState) authorizeFailed(req authzRequest, aerr *authzError) reply {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.authorizeFailedLocked(req, aerr)
}

func (st *oauthState) authorizeFailedLocked(req authzRequest, aerr *authzError) reply {
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
func redirectBack(redirectURI string, params url.Values) reply {
	u, err := url.Parse(redirectURI)
	if err != nil {
		return errorPage(http.StatusInternalServerError, "server_error", "The registered redirect URI does not parse: "+err.Error())
	}
	q := u.Query()
	for k, vs := range params {
		q[k] = vs
	}
	u.RawQuery = q.Encode()
	return reply{code: http.StatusFound, header: http.Header{
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

// tokenError is a failed token request (RFC 6749 §5.2).
type tokenError struct {
	status      int
	code        string
	description string
}

func (e *tokenError) reply() reply {
	rp := jsonReply(e.status, map[string]string{"error": e.code, "error_description": e.description})
	rp.header = noStore()
	if e.status == http.StatusUnauthorized {
		// RFC 6749 §5.2: required when the client tried Basic; harmless otherwise.
		rp.header.Set("WWW-Authenticate", `Basic realm="flysim"`)
	}
	return rp
}

func invalidRequest(desc string) *tokenError {
	return &tokenError{http.StatusBadRequest, "invalid_request", desc}
}

func invalidGrant(desc string) *tokenError {
	return &tokenError{http.StatusBadRequest, "invalid_grant", desc}
}

func noStore() http.Header {
	return http.Header{"Cache-Control": {"no-store"}, "Pragma": {"no-cache"}}
}

// tokenResponse is Fly's answer to a successful exchange.
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
	RefreshToken string `json:"refresh_token"`
	Scope        string `json:"scope"`
	CreatedAt    int64  `json:"created_at"`
}

// exchangeCode is POST /oauth/token. Only the authorization_code grant is
// simulated: the refresh token is returned for the shape of the answer but
// cannot be redeemed (a refresh_token grant is unsupported_grant_type).
func (s *Server) exchangeCode(r *http.Request) reply {
	st := s.oauth
	st.mu.Lock()
	defer st.mu.Unlock()
	resp, terr := st.exchangeLocked(r, s.now())
	if terr != nil {
		st.stats.TokenErrors[terr.code]++
		return terr.reply()
	}
	st.stats.TokensIssued++
	rp := jsonReply(http.StatusOK, resp)
	rp.header = noStore()
	return rp
}

func (st *oauthState) exchangeLocked(r *http.Request, now time.Time) (tokenResponse, *tokenError) {
	v, err := readOAuthForm(r)
	if err != nil {
		return tokenResponse{}, invalidRequest(capitalize(err.Error()) + ".")
	}
	grant := v.Get("grant_type")
	if grant == "" {
		return tokenResponse{}, invalidRequest("grant_type is missing.")
	}
	client, terr := st.authenticateLocked(r, v)
	if terr != nil {
		return tokenResponse{}, terr
	}
	if grant != "authorization_code" {
		return tokenResponse{}, &tokenError{http.StatusBadRequest, "unsupported_grant_type",
			fmt.Sprintf("grant_type %q is not supported; flysim only simulates authorization_code.", grant)}
	}
	code, redirectURI, verifier := v.Get("code"), v.Get("redirect_uri"), v.Get("code_verifier")
	switch {
	case code == "":
		return tokenResponse{}, invalidRequest("code is missing.")
	case redirectURI == "":
		return tokenResponse{}, invalidRequest("redirect_uri is missing; it must be the one sent to /oauth/authorize.")
	}
	c := st.codes[secretKey(code)]
	switch {
	// A code issued to another client is treated as unknown and left
	// alone: the client presenting it is not the one that could replay it.
	case c == nil || c.clientID != client.ID:
		return tokenResponse{}, invalidGrant("The authorization code is unknown or was issued to another client.")
	case c.spent != "":
		// RFC 6749 §4.1.2: a code used twice may have been stolen, so the
		// token issued from it goes too.
		if c.token != nil && !c.token.revoked {
			c.token.revoked = true
			st.stats.TokensRevoked++
		}
		return tokenResponse{}, invalidGrant("The authorization code " + c.spent + "; codes are single-use, and any access token issued from it is now revoked.")
	case !now.Before(c.expiresAt):
		return tokenResponse{}, invalidGrant(fmt.Sprintf("The authorization code expired (codes last %s).", st.codeTTL))
	}
	// Verification failures burn the code: a legitimate client knows its
	// redirect URI and verifier, so a wrong one is more likely an attacker
	// with a stolen code than a client worth a second try.
	fail := func(desc string) (tokenResponse, *tokenError) {
		c.spent = "was invalidated by an earlier failed attempt to redeem it"
		return tokenResponse{}, invalidGrant(desc + " The code can no longer be redeemed.")
	}
	if redirectURI != c.redirectURI {
		return fail(fmt.Sprintf("redirect_uri %q is not the one the code was issued for.", redirectURI))
	}
	switch {
	case c.challenge == "" && verifier != "":
		return fail("code_verifier is given but the authorization request had no code_challenge.")
	case c.challenge == "":
	case verifier == "":
		return fail("code_verifier is missing; the authorization request had a code_challenge.")
	case !validVerifier(verifier):
		return fail("code_verifier must be 43 to 128 characters of A-Z a-z 0-9 - . _ ~ (RFC 7636 §4.1).")
	case subtle.ConstantTimeCompare([]byte(s256(verifier)), []byte(c.challenge)) != 1:
		return fail("code_verifier does not match the code_challenge.")
	}

	st.pruneLocked(now)
	access := accessTokenPrefix + randomSecret(32)
	t := &oauthToken{
		clientID:  client.ID,
		userID:    c.userID,
		scope:     c.scope,
		createdAt: now,
		expiresAt: now.Add(st.tokenTTL),
	}
	st.tokens[secretKey(access)] = t
	c.spent = "was already redeemed"
	c.token = t
	return tokenResponse{
		AccessToken:  access,
		TokenType:    "Bearer",
		ExpiresIn:    int64(st.tokenTTL / time.Second),
		RefreshToken: randomSecret(32),
		Scope:        c.scope,
		CreatedAt:    now.Unix(),
	}, nil
}

// authenticateLocked finds the client by HTTP Basic credentials or by
// client_id and client_secret in the body, as Doorkeeper accepts both, but
// not both at once (RFC 6749 §2.3).
func (st *oauthState) authenticateLocked(r *http.Request, v url.Values) (OAuthClient, *tokenError) {
	unauthorized := &tokenError{http.StatusUnauthorized, "invalid_client",
		"Client authentication failed: unknown client, no client authentication included, or wrong secret."}
	id, secret := v.Get("client_id"), v.Get("client_secret")
	if h := r.Header.Get("Authorization"); h != "" {
		bid, bsecret, ok := r.BasicAuth()
		if !ok {
			return OAuthClient{}, unauthorized
		}
		if _, inBody := v["client_secret"]; inBody {
			return OAuthClient{}, invalidRequest("The client authenticated twice, with HTTP Basic and client_secret; use one.")
		}
		// RFC 6749 §2.3.1: Basic credentials are form-encoded first.
		var err1, err2 error
		bid, err1 = url.QueryUnescape(bid)
		bsecret, err2 = url.QueryUnescape(bsecret)
		if err1 != nil || err2 != nil {
			return OAuthClient{}, unauthorized
		}
		if id != "" && id != bid {
			return OAuthClient{}, invalidRequest("client_id in the body is not the client of the HTTP Basic credentials.")
		}
		id, secret = bid, bsecret
	}
	if id == "" || secret == "" {
		return OAuthClient{}, unauthorized
	}
	client, ok := st.clients[id]
	want := client.Secret
	if !ok {
		want = "\x00" // still compare, so an unknown client takes as long
	}
	if subtle.ConstantTimeCompare([]byte(secret), []byte(want)) != 1 || !ok {
		return OAuthClient{}, unauthorized
	}
	return client, nil
}

// tokenInfo is GET /oauth/token/info: who the token's user is.
type tokenInfo struct {
	ResourceOwnerID string            `json:"resource_owner_id"`
	UserID          string            `json:"user_id"`
	UserName        string            `json:"user_name"`
	Email           string            `json:"email"`
	Organizations   []OAuthMembership `json:"organizations"`
	Scope           []string          `json:"scope"`
	ExpiresIn       int64             `json:"expires_in"` // seconds left
	Application     struct {
		UID string `json:"uid"`
	} `json:"application"`
	CreatedAt int64 `json:"created_at"`
}

func (s *Server) tokenInfo(r *http.Request) reply {
	st := s.oauth
	now := s.now()
	st.mu.Lock()
	defer st.mu.Unlock()
	invalid := func(desc string) reply {
		st.stats.InfoErrors++
		rp := jsonReply(http.StatusUnauthorized, map[string]string{"error": "invalid_token", "error_description": desc})
		rp.header = noStore()
		rp.header.Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm="flysim", error="invalid_token", error_description=%q`,
			strings.ReplaceAll(desc, `"`, "'")))
		return rp
	}
	scheme, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if !strings.EqualFold(scheme, "Bearer") || tok == "" || strings.ContainsAny(tok, " \t") {
		if r.URL.Query().Has("access_token") {
			return invalid("Send the access token in the Authorization header, not the URL.")
		}
		return invalid("No access token: send Authorization: Bearer <access_token>.")
	}
	t := st.tokens[secretKey(tok)]
	switch {
	case t == nil:
		return invalid("The access token is invalid")
	case t.revoked:
		return invalid("The access token was revoked")
	case !now.Before(t.expiresAt):
		return invalid("The access token expired")
	}
	user, ok := st.users[t.userID]
	if !ok {
		return invalid("The access token's user no longer exists")
	}
	info := tokenInfo{
		ResourceOwnerID: user.ID,
		UserID:          user.ID,
		UserName:        user.Name,
		Email:           user.Email,
		Organizations:   append([]OAuthMembership{}, user.Organizations...), // [] rather than null
		Scope:           strings.Fields(t.scope),
		ExpiresIn:       int64(t.expiresAt.Sub(now).Round(time.Second) / time.Second),
		CreatedAt:       t.createdAt.Unix(),
	}
	info.Application.UID = t.clientID
	st.stats.InfosServed++
	b, err := json.Marshal(info)
	if err != nil {
		return errReply(http.StatusInternalServerError, "internal: "+err.Error())
	}
	return reply{code: http.StatusOK, body: b, header: noStore()}
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
