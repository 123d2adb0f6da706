package oauth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"maps"
	"slices"
	"sync"
	"time"
)

const (
	defaultOAuthCodeTTL  = 2 * time.Minute
	maxOAuthCodeTTL      = 10 * time.Minute // RFC 6749 §4.1.2: "maximum ... of 10 minutes is RECOMMENDED"
	defaultOAuthTokenTTL = 2 * time.Hour    // Fly answers expires_in 7200
	oauthScopeRead       = "read"           // the only scope Fly supports
	accessTokenPrefix    = "fo1_"           // what Fly's OAuth access tokens start with
)

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

// Server is Fly's OAuth server. It has its own lock: signing in never
// waits on another simulator's state.
type Server struct {
	codeTTL, tokenTTL time.Duration
	now               func() time.Time

	mu      sync.Mutex
	clients map[string]Client
	users   map[string]User
	order   []string // user ids in the order the sign-in page lists them
	// codes and tokens are keyed by the SHA-256 of the secret, so that
	// looking one up does not leak its prefix through timing.
	codes  map[[32]byte]*oauthCode
	tokens map[[32]byte]*oauthToken
	stats  Stats
}

// New returns an OAuth server with o's clients and users, on the clock now
// (nil: time.Now). It panics if o is invalid (see Validate).
func New(o Options, now func() time.Time) *Server {
	if err := o.Validate(); err != nil {
		panic("flysim/oauth: invalid Options: " + err.Error())
	}
	if now == nil {
		now = time.Now
	}
	if o.CodeTTL == 0 {
		o.CodeTTL = defaultOAuthCodeTTL
	}
	if o.TokenTTL == 0 {
		o.TokenTTL = defaultOAuthTokenTTL
	}
	st := &Server{
		codeTTL:  o.CodeTTL,
		tokenTTL: o.TokenTTL,
		now:      func() time.Time { return now().UTC() },
		clients:  map[string]Client{},
		users:    map[string]User{},
		codes:    map[[32]byte]*oauthCode{},
		tokens:   map[[32]byte]*oauthToken{},
		stats:    Stats{AuthorizeErrors: map[string]int{}, TokenErrors: map[string]int{}},
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
func (st *Server) addClientLocked(c Client) {
	c.RedirectURIs = slices.Clone(c.RedirectURIs)
	st.clients[c.ID] = c
}

func (st *Server) addUserLocked(u User) {
	u.Organizations = slices.Clone(u.Organizations)
	if _, ok := st.users[u.ID]; !ok {
		st.order = append(st.order, u.ID)
	}
	st.users[u.ID] = u
}

// AddClient registers c, replacing any client with the same id (which is
// how a test rotates a secret). It panics if c is invalid: that is a bug in
// the test.
func (st *Server) AddClient(c Client) {
	if err := c.Validate(); err != nil {
		panic("flysim: AddOAuthClient: " + err.Error())
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	st.addClientLocked(c)
}

// AddUser adds u to the users who can sign in, replacing any user with the
// same id; tokens already issued to that id then report the new details.
// It panics like AddClient.
func (st *Server) AddUser(u User) {
	if err := u.Validate(); err != nil {
		panic("flysim: AddOAuthUser: " + err.Error())
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	st.addUserLocked(u)
}

// Stats returns a copy of the counters since New.
func (st *Server) Stats() Stats {
	st.mu.Lock()
	defer st.mu.Unlock()
	out := st.stats
	out.AuthorizeErrors = maps.Clone(st.stats.AuthorizeErrors)
	out.TokenErrors = maps.Clone(st.stats.TokenErrors)
	return out
}

// pruneLocked forgets codes and tokens long past their expiry. They are
// kept for a token lifetime after it so that a late replay of a code still
// revokes its token and an expired token is reported as expired.
func (st *Server) pruneLocked(now time.Time) {
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
