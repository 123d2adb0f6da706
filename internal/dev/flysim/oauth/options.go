package oauth

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// Options configures the OAuth server. Clients and users may be empty and
// added later with AddClient and AddUser.
type Options struct {
	Clients []Client
	Users   []User
	// CodeTTL is how long an authorization code can be redeemed. Default
	// 2 min; at most 10 min (RFC 6749 §4.1.2).
	CodeTTL time.Duration
	// TokenTTL is how long an access token is valid. Default 2h, Fly's
	// expires_in of 7200 s.
	TokenTTL time.Duration
}

// Client is an OAuth application registered with Fly: an extension
// provider. RedirectURIs are compared to redirect_uri exactly, byte for
// byte.
type Client struct {
	ID           string   `json:"id"`
	Secret       string   `json:"secret"`
	RedirectURIs []string `json:"redirect_uris"`
}

// User is a Fly user who can sign in, with the organizations
// /oauth/token/info reports.
type User struct {
	ID            string       `json:"id"`
	Name          string       `json:"name"`
	Email         string       `json:"email"`
	Organizations []Membership `json:"organizations"`
}

// Membership is a user's role in one organization: "admin" or
// "member". ID is the organization id, which is what Fly sends a provider
// as organization_id when it provisions an extension.
type Membership struct {
	ID   string `json:"id"`
	Role string `json:"role"`
}

// Stats counts what the OAuth server has done, for tests.
type Stats struct {
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

// DefaultUsers returns the dev users: Ada, admin of acme; Max, a
// member of acme; and Olga, admin of globex only, who must not see acme's
// extensions. Their ids are fixed so browser tests can click #login-<id>.
func DefaultUsers() []User {
	return []User{
		{
			ID: "q7m2xk9d0vwl4e8a", Name: "Ada Admin", Email: "h2v7q0c9m4tz8kx1@customer.fly.io",
			Organizations: []Membership{{ID: "acme", Role: "admin"}},
		},
		{
			ID: "p3n8zr1y6ctj5b0h", Name: "Max Member", Email: "b8r1w6n3k0yd5qs2@customer.fly.io",
			Organizations: []Membership{{ID: "acme", Role: "member"}},
		},
		{
			ID: "w9f4ls2u7gkd1m6x", Name: "Olga Outsider", Email: "z5j0e3p8t1gx6mv4@customer.fly.io",
			Organizations: []Membership{{ID: "globex", Role: "admin"}},
		},
	}
}

// Validate reports the first thing wrong with o.
func (o Options) Validate() error {
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
func (c Client) Validate() error {
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
func (u User) Validate() error {
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
