package signing

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
)

// Sign returns the lowercase hex HMAC-SHA256 of message under secret: the
// form Jetway sends (Fly's docs show none; hex is what the only public
// implementation uses).
func Sign(secret, message []byte) string {
	return hex.EncodeToString(mac(secret, message))
}

func mac(secret, message []byte) []byte {
	h := hmac.New(sha256.New, secret)
	h.Write(message)
	return h.Sum(nil)
}

// Valid reports whether signature is the HMAC-SHA256 of message under any of
// secrets, in any encoding Jetway accepts. Empty secrets are skipped: an HMAC
// keyed with nothing can be computed by anyone, so a blank config entry must
// never make every request valid.
//
// The comparison is hmac.Equal on the decoded bytes, and every secret is
// tried even after a match, so timing reveals neither the expected MAC nor
// which secret matched.
func Valid(secrets [][]byte, message []byte, signature string) bool {
	candidates := decodeSignature(signature)
	if len(candidates) == 0 {
		return false
	}
	ok := false
	for _, secret := range secrets {
		if len(secret) == 0 {
			continue
		}
		want := mac(secret, message)
		for _, got := range candidates {
			if hmac.Equal(got, want) {
				ok = true
			}
		}
	}
	return ok
}

// decodeSignature returns every 32-byte value signature decodes to. The
// encodings have different lengths for 32 bytes (hex 64, padded base64 44,
// unpadded 43), so at most one decoder succeeds per alphabet; trying all of
// them keeps the rule simple to state.
func decodeSignature(signature string) [][]byte {
	s := strings.TrimSpace(signature)
	if len(s) >= len("sha256=") && strings.EqualFold(s[:len("sha256=")], "sha256=") {
		s = s[len("sha256="):]
	}
	if s == "" || len(s) > 128 {
		return nil
	}
	var out [][]byte
	if b, err := hex.DecodeString(s); err == nil && len(b) == sha256.Size {
		out = append(out, b)
	}
	for _, enc := range []*base64.Encoding{
		base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding,
	} {
		if b, err := enc.Strict().DecodeString(s); err == nil && len(b) == sha256.Size {
			out = append(out, b)
		}
	}
	return out
}
