package conformance

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
)

// Fly's page: "All requests are accompanied by an X-Signature header
// containing the HMAC of the request contents: the query string for GET
// and DELETE requests, and the request body for POST and PATCH requests",
// a "SHA256 HMAC" with the shared secret. The page does not say how the MAC
// is encoded; the suite sends lowercase hex (what Fly's examples elsewhere
// and Jetway use) and accepts hex or base64 from a provider's webhooks.
const signatureHeader = "X-Signature"

// mac is the hex HMAC-SHA256 of msg under secret.
func mac(secret, msg []byte) string {
	h := hmac.New(sha256.New, secret)
	h.Write(msg)
	return hex.EncodeToString(h.Sum(nil))
}

// validMAC reports whether sig is the HMAC-SHA256 of msg under secret, hex
// or base64 encoded, optionally after "sha256=", compared in constant time.
func validMAC(secret, msg []byte, sig string) bool {
	h := hmac.New(sha256.New, secret)
	h.Write(msg)
	want := h.Sum(nil)
	sig = strings.TrimPrefix(strings.TrimSpace(sig), "sha256=")
	for _, decode := range []func(string) ([]byte, error){
		hex.DecodeString,
		base64.StdEncoding.DecodeString,
		base64.RawStdEncoding.DecodeString,
		base64.URLEncoding.DecodeString,
		base64.RawURLEncoding.DecodeString,
	} {
		if got, err := decode(sig); err == nil && hmac.Equal(got, want) {
			return true
		}
	}
	return false
}

// randomHex is n random bytes, hex encoded: nonces and run ids.
func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("conformance: no randomness: " + err.Error()) // crypto/rand does not fail on supported platforms
	}
	return hex.EncodeToString(b)
}
