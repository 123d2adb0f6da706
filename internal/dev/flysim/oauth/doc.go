// Package oauth is a stand-in for Fly.io's OAuth server, which signs Fly
// users in to an extension provider's dashboard.
//
// Source: the "Single Sign On Flow" of Fly's extensions docs,
// ../shared/spec/fly-extensions-provisioning-api.txt lines 168–237, as
// summarised in ../shared/research/fly-protocol.md §2.6. The provider
// sends the browser to GET /oauth/authorize (client_id, response_type=code,
// redirect_uri, scope=read: "Currently, only the read scope is supported",
// line 184), gets a code back on its redirect URI, exchanges it at POST
// /oauth/token for {access_token "fo1_…", token_type Bearer, expires_in
// 7200, refresh_token, scope, created_at} (lines 188–205), and asks GET
// /oauth/token/info who the user is and which organizations they belong
// to, with their admin or member role (lines 213–237). Fly runs Doorkeeper,
// a Rails OAuth server, so what the docs leave out follows RFC 6749 and
// RFC 7636 (PKCE).
//
// The simulator plays that server with a fixed set of users instead of real
// accounts; the sign-in page lists them as buttons (see login.go).
// Where Fly's behaviour is not documented it is stricter than Doorkeeper's
// defaults: state is required, redirect URIs must match exactly, only
// PKCE's S256 method is accepted, parameters may not repeat, and a code
// that failed to redeem cannot be tried again. A provider that works
// against it should therefore work against Fly.
package oauth
