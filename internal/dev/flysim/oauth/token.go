package oauth

import (
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/jetway-dev/jetway/internal/dev/flysim/internal/respond"
)

// POST /oauth/token and GET /oauth/token/info: the exchange of a code for
// a token, and what Fly says about a token's user.

// tokenError is a failed token request (RFC 6749 §5.2).
type tokenError struct {
	status      int
	code        string
	description string
}

func (e *tokenError) reply() respond.Reply {
	rp := respond.JSON(e.status, map[string]string{"error": e.code, "error_description": e.description})
	rp.Header = noStore()
	if e.status == http.StatusUnauthorized {
		// RFC 6749 §5.2: required when the client tried Basic; harmless otherwise.
		rp.Header.Set("WWW-Authenticate", `Basic realm="flysim"`)
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
func (st *Server) exchangeCode(r *http.Request) respond.Reply {
	st.mu.Lock()
	defer st.mu.Unlock()
	resp, terr := st.exchangeLocked(r, st.now())
	if terr != nil {
		st.stats.TokenErrors[terr.code]++
		return terr.reply()
	}
	st.stats.TokensIssued++
	rp := respond.JSON(http.StatusOK, resp)
	rp.Header = noStore()
	return rp
}

func (st *Server) exchangeLocked(r *http.Request, now time.Time) (tokenResponse, *tokenError) {
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
func (st *Server) authenticateLocked(r *http.Request, v url.Values) (Client, *tokenError) {
	unauthorized := &tokenError{http.StatusUnauthorized, "invalid_client",
		"Client authentication failed: unknown client, no client authentication included, or wrong secret."}
	id, secret := v.Get("client_id"), v.Get("client_secret")
	if h := r.Header.Get("Authorization"); h != "" {
		bid, bsecret, ok := r.BasicAuth()
		if !ok {
			return Client{}, unauthorized
		}
		if _, inBody := v["client_secret"]; inBody {
			return Client{}, invalidRequest("The client authenticated twice, with HTTP Basic and client_secret; use one.")
		}
		// RFC 6749 §2.3.1: Basic credentials are form-encoded first.
		var err1, err2 error
		bid, err1 = url.QueryUnescape(bid)
		bsecret, err2 = url.QueryUnescape(bsecret)
		if err1 != nil || err2 != nil {
			return Client{}, unauthorized
		}
		if id != "" && id != bid {
			return Client{}, invalidRequest("client_id in the body is not the client of the HTTP Basic credentials.")
		}
		id, secret = bid, bsecret
	}
	if id == "" || secret == "" {
		return Client{}, unauthorized
	}
	client, ok := st.clients[id]
	want := client.Secret
	if !ok {
		want = "\x00" // still compare, so an unknown client takes as long
	}
	if subtle.ConstantTimeCompare([]byte(secret), []byte(want)) != 1 || !ok {
		return Client{}, unauthorized
	}
	return client, nil
}

// tokenInfo is GET /oauth/token/info: who the token's user is.
type tokenInfo struct {
	ResourceOwnerID string       `json:"resource_owner_id"`
	UserID          string       `json:"user_id"`
	UserName        string       `json:"user_name"`
	Email           string       `json:"email"`
	Organizations   []Membership `json:"organizations"`
	Scope           []string     `json:"scope"`
	ExpiresIn       int64        `json:"expires_in"` // seconds left
	Application     struct {
		UID string `json:"uid"`
	} `json:"application"`
	CreatedAt int64 `json:"created_at"`
}

func (st *Server) tokenInfo(r *http.Request) respond.Reply {
	now := st.now()
	st.mu.Lock()
	defer st.mu.Unlock()
	invalid := func(desc string) respond.Reply {
		st.stats.InfoErrors++
		rp := respond.JSON(http.StatusUnauthorized, map[string]string{"error": "invalid_token", "error_description": desc})
		rp.Header = noStore()
		rp.Header.Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm="flysim", error="invalid_token", error_description=%q`,
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
		Organizations:   append([]Membership{}, user.Organizations...), // [] rather than null
		Scope:           strings.Fields(t.scope),
		ExpiresIn:       int64(t.expiresAt.Sub(now).Round(time.Second) / time.Second),
		CreatedAt:       t.createdAt.Unix(),
	}
	info.Application.UID = t.clientID
	st.stats.InfosServed++
	b, err := json.Marshal(info)
	if err != nil {
		return respond.Err(http.StatusInternalServerError, "internal: "+err.Error())
	}
	return respond.Reply{Code: http.StatusOK, Body: b, Header: noStore()}
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
