package flysign

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
)

// Sign returns the lowercase hex HMAC-SHA256 of message under secret, the
// X-Signature value of Jetway's contract (DESIGN.md line 89).
func Sign(secret, message []byte) string {
	h := hmac.New(sha256.New, secret)
	h.Write(message)
	return hex.EncodeToString(h.Sum(nil))
}

// Valid reports whether signature is exactly Sign(secret, message). The
// comparison is hmac.Equal, so its time does not depend on how much of the
// signature was right. An empty secret never validates: anyone can compute
// an HMAC keyed with nothing.
func Valid(secret, message []byte, signature string) bool {
	if len(secret) == 0 {
		return false
	}
	return hmac.Equal([]byte(signature), []byte(Sign(secret, message)))
}
