package signing

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func FuzzValid(f *testing.F) {
	f.Add([]byte("secret"), []byte("other"), []byte(`{"id":"x"}`), "")
	f.Add([]byte("k"), []byte("K"), []byte("timestamp=1&nonce=a&url=b"), "sha256=")
	f.Add([]byte{0}, []byte{0, 0}, []byte{}, strings.Repeat("A", 43))
	f.Fuzz(func(t *testing.T, secret, other, msg []byte, sig string) {
		secrets := [][]byte{secret}
		Valid(secrets, msg, sig) // arbitrary input must not panic
		if len(other) == 0 || bytes.Equal(hmacKey(secret), hmacKey(other)) {
			return // not "another secret" as far as HMAC is concerned
		}
		if len(secret) > 0 && !Valid(secrets, msg, Sign(secret, msg)) {
			t.Fatal("Valid rejected our own signature")
		}
		mac := mac(other, msg)
		for _, forged := range []string{
			Sign(other, msg),
			strings.ToUpper(Sign(other, msg)),
			base64.StdEncoding.EncodeToString(mac),
			base64.RawURLEncoding.EncodeToString(mac),
			"sha256=" + Sign(other, msg),
		} {
			if Valid(secrets, msg, forged) {
				t.Fatalf("Valid accepted a signature made with another secret: %q", forged)
			}
		}
	})
}

// hmacKey is the key HMAC really uses: long keys are hashed and short ones
// zero-padded to the block size, so "k" and "k\x00" are the same key.
func hmacKey(k []byte) []byte {
	if len(k) > sha256.BlockSize {
		sum := sha256.Sum256(k)
		k = sum[:]
	}
	return bytes.TrimRight(k, "\x00")
}

func FuzzParamsFromJSON(f *testing.F) {
	f.Add([]byte(`{"timestamp":1685641159,"nonce":"e3f7","url":"https://x/flyio/extensions"}`))
	f.Add([]byte(`{"timestamp":"1693513586"}`))
	f.Add([]byte(`{"timestamp":1e400}`))
	f.Add([]byte(`{"timestamp":-0.5,"nonce":null}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		p, err := ParamsFromJSON(body)
		if err != nil {
			if !reflect.DeepEqual(p, Params{}) {
				t.Fatalf("error %v came with non-zero params %+v", err, p)
			}
			var se *Error
			if errors.As(err, &se) && se.Code != CodeMissingParam {
				t.Fatalf("unexpected code %s", se.Code)
			}
			return
		}
		if !p.HasTimestamp && !p.Timestamp.IsZero() {
			t.Fatalf("timestamp %s set without HasTimestamp", p.Timestamp)
		}
	})
}
