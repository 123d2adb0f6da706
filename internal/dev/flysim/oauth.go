package flysim

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// Fly's OAuth server. Fly signs its users in to an extension provider's
// dashboard with OAuth 2.0 (it runs Doorkeeper, a Rails OAuth server): the
// provider sends the browser to /oauth/authorize, gets a code back on its
// redirect URI, exchanges it at /oauth/token and asks /oauth/token/info who
// the user is and which organizations they belong to. The simulator plays
// that server with a fixed set of users instead of real accounts; the
// sign-in page lists them as buttons (see oauth_login.go).
//
// Where Fly's behaviour is not documented the simulator is stricter than
// Doorkeeper's defaults: state is required, redirect URIs must match
// exactly, only PKCE's S256 method is accepted, parameters may not repeat,
// and a code that failed to redeem cannot be tried again. A provider that
// works against flysim should therefore work against Fly.

const (
	defaultOAuthCodeTTL  = 2 * time.Minute
	maxOAuthCodeTTL      = 10 * time.Minute // RFC 6749 §4.1.2: "maximum ... of 10 minutes is RECOMMENDED"
	defaultOAuthTokenTTL = 2 * time.Hour    // Fly answers expires_in 7200
	oauthScopeRead       = "read"           // the only scope Fly supports
	accessTokenPrefix    = "fo1_"           // what Fly's OAuth access tokens start with
)

// OAuthOptions turns on Fly's OAuth server (Options.OAuth). Clients and
// users may be empty and added later with AddOAuthClient and AddOAuthUser.
type OAuthOptions struct {
	Clients []OAuthClient
	Users   []OAuthUser
	// CodeTTL is how long an authorization code can be redeemed. Default
	// 2 min; at most 10 min (RFC 6749 §4.1.2).
	CodeTTL time.Duration
	// TokenTTL is how long an access token is valid. Default 2h, Fly's
	// expires_in of 7200 s.
	TokenTTL time.Duration
}

// OAuthClient is an OAuth application registered with Fly: an extension
// provider. RedirectURIs are compared to redirect_uri exactly, byte for
// byte.
type OAuthClient struct {
	ID           string   `json:"id"`
	Secret       string   `json:"secret"`
	RedirectURIs []string `json:"redirect_uris"`
}

// OAuthUser is a Fly user who can sign in, with the organizations
// /oauth/token/info reports.
type OAuthUser struct {
	ID            string            `json:"id"`
	Name          string            `json:"name"`
	Email         string            `json:"email"`
	Organizations []OAuthMembership `json:"organizations"`
}

// OAuthMembership is a user's role in one organization: "admin" or
// "member". ID is the organization id, which is what Fly sends a provider
// as organization_id when it provisions an extension.
type OAuthMembership struct {
	ID   string `json:"id"`
	Role string `json:"role"`
}

// OAuthStats counts what the OAuth server has done, for tests.
type OAuthStats struct {
	CodesIssued   int `json:"codes_issued"`
	TokensIssued  int `json:"tokens_issued"`
	TokensRevoked int `json:"tokens_revoked"` // by a reused code
	// AuthorizeErrors counts failed /oauth/authorize requests by error
	// code, whether they were redirected or shown on an error page;
	// access_denied is a user pressing Deny.
	AuthorizeErrors map[string]int `json:"authorize_errors"`
	// TokenErrors counts failed POST /oauth/token requests by error code
	// (invalid_grant, invalid_client, ...).
	TokenErrors map[string]int `json:"token_errors"`
	InfosServed int            `json:"infos_served"`
	InfoErrors  int            `json:"info_errors"` // 401 invalid_token answers
}

// DefaultOAuthUsers returns the dev users: Ada, admin of acme; Max, a
// member of acme; and Olga, admin of globex only, who must not see acme's
// extensions. Their ids are fixed so browser tests can click #login-<id>.
func DefaultOAuthUsers() []OAuthUser {
	return []OAuthUser{
		{
			ID: "q7m2xk9d0vwl4e8a", Name: "Ada Admin", Email: "h2v7q0c9m4tz8kx1@customer.fly.io",
			Organizations: []OAuthMembership{{ID: "acme", Role: "admin"}},
		},
		{
			ID: "p3n8zr1y6ctj5b0h", Name: "Max Member", Email: "b8r1w6n3k0yd5qs2@customer.fly.io",
			Organizations: []OAuthMembership{{ID: "acme", Role: "member"}},
		},
		{
			ID: "w9f4ls2u7gkd1m6x", Name: "Olga Outsider", Email: "z5j0e3p8t1gx6mv4@customer.fly.io",
			Organizations: []OAuthMembership{{ID: "globex", Role: "admin"}},
		},
	}
}

// Validate reports the first thing wrong with o.
func (o OAuthOptions) Validate() error {
	switch {
	case o.CodeTTL < 0:
		return errors.New("code TTL must not be negative")
	case o.CodeTTL > maxOAuthCodeTTL:
		return fmt.Errorf("code TTL %s is longer than the 10 minutes RFC 6749 allows", o.CodeTTL)
	case o.TokenTTL < 0:
		return errors.New("token TTL must not be negative")
	}
	seen := map[string]bool{}
	for i, c := range o.Clients {
		if err := c.Validate(); err != nil {
			return fmt.Errorf("client %d: %w", i, err)
		}
		if seen[c.ID] {
			return fmt.Errorf("client %d: id %q is registered twice", i, c.ID)
		}
		seen[c.ID] = true
	}
	seen = map[string]bool{}
	for i, u := range o.Users {
		if err := u.Validate(); err != nil {
			return fmt.Errorf("user %d: %w", i, err)
		}
		if seen[u.ID] {
			return fmt.Errorf("user %d: id %q is listed twice", i, u.ID)
		}
		seen[u.ID] = true
	}
	return nil
}

// Validate reports the first thing wrong with c. Redirect URIs must be
// absolute http(s) URLs without a fragment (RFC 6749 §3.1.2).
func (c OAuthClient) Validate() error {
	switch {
	case c.ID == "":
		return errors.New("client id is empty")
	case c.Secret == "":
		return fmt.Errorf("client %q: secret is empty", c.ID)
	case len(c.RedirectURIs) == 0:
		return fmt.Errorf("client %q: no redirect URIs", c.ID)
	}
	for _, raw := range c.RedirectURIs {
		u, err := url.Parse(raw)
		switch {
		case err != nil:
			return fmt.Errorf("client %q: redirect URI %q: %w", c.ID, raw, err)
		case u.Scheme != "http" && u.Scheme != "https":
			return fmt.Errorf("client %q: redirect URI %q is not an http(s) URL", c.ID, raw)
		case u.Host == "":
			return fmt.Errorf("client %q: redirect URI %q has no host", c.ID, raw)
		case strings.Contains(raw, "#"):
			return fmt.Errorf("client %q: redirect URI %q has a fragment", c.ID, raw)
		}
	}
	return nil
}

// Validate reports the first thing wrong with u.
func (u OAuthUser) Validate() error {
	switch {
	case u.ID == "":
		return errors.New("user id is empty")
	case u.Name == "":
		return fmt.Errorf("user %q: name is empty", u.ID)
	case u.Email == "":
		return fmt.Errorf("user %q: email is empty", u.ID)
	}
	for _, m := range u.Organizations {
		if m.ID == "" {
			return fmt.Errorf("user %q: organization id is empty", u.ID)
		}
		if m.Role != "admin" && m.Role != "member" {
			return fmt.Errorf("user %q: role %q in organization %q is not admin or member", u.ID, m.Role, m.ID)
		}
	}
	return nil
}

// oauthCode is an issued authorization code and what it was issued for.
type oauthCode struct {
	clientID, redirectURI, userID, scope string
	challenge                            string // S256 code_challenge; empty without PKCE
	expiresAt                            time.Time
	// spent says why the code can no longer be redeemed ("" while it
	// can): redeemed, or an earlier redemption failed verification.
	spent string
	token *oauthToken // issued from this code; revoked if the code comes back
}

// oauthToken is an issued access token.
type oauthToken struct {
	clientID, userID, scope string
	createdAt, expiresAt    time.Time
	revoked                 bool
}

// oauthState is the OAuth server's state. It has its own lock: signing in
// never waits on the machine state behind Server.mu.
type oauthState struct {
	codeTTL, tokenTTL time.Duration

	mu      sync.Mutex
	clients map[string]OAuthClient
	users   map[string]OAuthUser
	order   []string // user ids in the order the sign-in page lists them
	// codes and tokens are keyed by the SHA-256 of the secret, so that
	// looking one up does not leak its prefix through timing.
	codes  map[[32]byte]*oauthCode
	tokens map[[32]byte]*oauthToken
	stats  OAuthStats
}

func newOAuthState(o OAuthOptions) *oauthState {
	if err := o.Validate(); err != nil {
		panic("flysim: invalid Options.OAuth: " + err.Error())
	}
	if o.CodeTTL == 0 {
		o.CodeTTL = defaultOAuthCodeTTL
	}
	if o.TokenTTL == 0 {
		o.TokenTTL = defaultOAuthTokenTTL
	}
	st := &oauthState{
		codeTTL:  o.CodeTTL,
		tokenTTL: o.TokenTTL,
		clients:  map[string]OAuthClient{},
		users:    map[string]OAuthUser{},
		codes:    map[[32]byte]*oauthCode{},
		tokens:   map[[32]byte]*oauthToken{},
		stats:    OAuthStats{AuthorizeErrors: map[string]int{}, TokenErrors: map[string]int{}},
	}
	for _, c := range o.Clients {
		st.addClientLocked(c)
	}
	for _, u := range o.Users {
		st.addUserLocked(u)
	}
	return st
}

// addClientLocked copies c so the caller cannot change it behind the lock.
func (st *oauthState) addClientLocked(c OAuthClient) {
	c.RedirectURIs = slices.Clone(c.RedirectURIs)
	st.clients[c.ID] = c
}

func (st *oauthState) addUserLocked(u OAuthUser) {
	u.Organizations = slices.Clone(u.Organizations)
	if _, ok := st.users[u.ID]; !ok {
		st.order = append(st.order, u.ID)
	}
	st.users[u.ID] = u
}

// AddOAuthClient registers c, replacing any client with the same id (which
// is how a test rotates a secret). It panics if the server was made without
// Options.OAuth or c is invalid: both are bugs in the test.
func (s *Server) AddOAuthClient(c OAuthClient) {
	st := s.mustOAuth("AddOAuthClient")
	if err := c.Validate(); err != nil {
		panic("flysim: AddOAuthClient: " + err.Error())
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	st.addClientLocked(c)
}

// AddOAuthUser adds u to the users who can sign in, replacing any user
// with the same id; tokens already issued to that id then report the new
// details. It panics like AddOAuthClient.
func (s *Server) AddOAuthUser(u OAuthUser) {
	st := s.mustOAuth("AddOAuthUser")
	if err := u.Validate(); err != nil {
		panic("flysim: AddOAuthUser: " + err.Error())
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	st.addUserLocked(u)
}

// OAuthStats returns a copy of the OAuth counters since New (all zero when
// OAuth is off).
func (s *Server) OAuthStats() OAuthStats {
	st := s.oauth
	if st == nil {
		return OAuthStats{AuthorizeErrors: map[string]int{}, TokenErrors: map[string]int{}}
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	out := st.stats
	out.AuthorizeErrors = maps.Clone(st.stats.AuthorizeErrors)
	out.TokenErrors = maps.Clone(st.stats.TokenErrors)
	return out
}

func (s *Server) mustOAuth(caller string) *oauthState {
	if s.oauth == nil {
		panic("flysim: " + caller + " on a server without Options.OAuth")
	}
	return s.oauth
}

// pruneLocked forgets codes and tokens long past their expiry. They are
// kept for a token lifetime after it so that a late replay of a code still
// revokes its token and an expired token is reported as expired.
func (st *oauthState) pruneLocked(now time.Time) {
	for k, c := range st.codes {
		if now.After(c.expiresAt.Add(st.tokenTTL)) {
			delete(st.codes, k)
		}
	}
	for k, t := range st.tokens {
		if now.After(t.expiresAt.Add(st.tokenTTL)) {
			delete(st.tokens, k)
		}
	}
}

// randomSecret returns n random bytes as unpadded base64url. Codes and
// tokens come from crypto/rand, not the server's seeded PRNG: they are
// credentials, and reproducible ids are only wanted for resources.
func randomSecret(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("flysim: reading random bytes: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func secretKey(secret string) [32]byte { return sha256.Sum256([]byte(secret)) }

// s256 is PKCE's S256 transform: BASE64URL(SHA256(verifier)), unpadded.
func s256(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}
