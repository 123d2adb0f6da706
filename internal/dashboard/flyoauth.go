package dashboard

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	"golang.org/x/oauth2"
)

// TokenInfo is Fly's answer to GET /oauth/token/info: who signed in and
// their role in each of their organizations.
type TokenInfo struct {
	ResourceOwnerID string          `json:"resource_owner_id"`
	UserID          string          `json:"user_id"`
	UserName        string          `json:"user_name"`
	Email           string          `json:"email"`
	Organizations   []TokenInfoOrg  `json:"organizations"`
	Scope           []string        `json:"scope"`
	ExpiresIn       int64           `json:"expires_in"`
	Application     TokenInfoClient `json:"application"`
	CreatedAt       int64           `json:"created_at"`
}

// TokenInfoOrg is one organization membership in TokenInfo.
type TokenInfoOrg struct {
	ID   string `json:"id"`
	Role string `json:"role"`
}

// TokenInfoClient names the OAuth application a token was issued to.
type TokenInfoClient struct {
	UID string `json:"uid"`
}

// flyOAuth talks to Fly's OAuth server: the authorize redirect, the code
// exchange and token introspection.
type flyOAuth struct {
	config  oauth2.Config
	infoURL string
	http    *http.Client
}

func newFlyOAuth(baseURL, clientID, clientSecret, redirectURL string, hc *http.Client) *flyOAuth {
	base := strings.TrimSuffix(baseURL, "/")
	return &flyOAuth{
		config: oauth2.Config{
			ClientID: clientID, ClientSecret: clientSecret, RedirectURL: redirectURL,
			// "Currently, only the read scope is supported" (Fly's docs).
			Scopes: []string{"read"},
			Endpoint: oauth2.Endpoint{
				AuthURL: base + "/oauth/authorize", TokenURL: base + "/oauth/token",
				// Fly documents the client credentials as form fields. Fixing
				// the style also avoids oauth2's auto-detection, which sends
				// a second exchange, with the same single-use code, when the
				// first is refused.
				AuthStyle: oauth2.AuthStyleInParams,
			},
		},
		infoURL: base + "/oauth/token/info",
		http:    hc,
	}
}

// authorizeURL is where the browser goes to sign in at Fly. PKCE S256 is
// sent even though Fly does not document it: a server that ignores it is
// unharmed, and one that honours it binds the code to this browser's flow.
// The organization goes as organization_id, the name Fly's provisioning
// requests give it (its page names no parameter).
func (f *flyOAuth) authorizeURL(state, verifier, orgID string) string {
	opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(verifier)}
	if orgID != "" {
		opts = append(opts, oauth2.SetAuthURLParam("organization_id", orgID))
	}
	return f.config.AuthCodeURL(state, opts...)
}

// exchange trades a code for an access token.
func (f *flyOAuth) exchange(ctx context.Context, code, verifier string) (*oauth2.Token, error) {
	ctx = context.WithValue(ctx, oauth2.HTTPClient, f.http)
	tok, err := f.config.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		return nil, fmt.Errorf("exchange the authorization code: %w", err)
	}
	return tok, nil
}

// tokenInfo asks Fly who the token belongs to.
func (f *flyOAuth) tokenInfo(ctx context.Context, tok *oauth2.Token) (*TokenInfo, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, f.infoURL, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	req.Header.Set("Accept", "application/json")
	resp, err := f.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("get token info: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("read token info: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("token info answered %d", resp.StatusCode)
	}
	var info TokenInfo
	if err := json.Unmarshal(body, &info); err != nil {
		return nil, fmt.Errorf("decode token info: %w", err)
	}
	if info.UserID == "" {
		info.UserID = info.ResourceOwnerID
	}
	if info.UserID == "" {
		return nil, fmt.Errorf("token info names no user")
	}
	return &info, nil
}
