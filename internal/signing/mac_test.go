package signing

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"testing"
)

func rawMAC(secret, msg string) []byte {
	h := hmac.New(sha256.New, []byte(secret))
	h.Write([]byte(msg))
	return h.Sum(nil)
}

func TestSignMatchesRFC4231(t *testing.T) {
	// RFC 4231 test case 2.
	got := Sign([]byte("Jefe"), []byte("what do ya want for nothing?"))
	want := "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
	if got != want {
		t.Fatalf("Sign = %s, want %s", got, want)
	}
}

func TestValid(t *testing.T) {
	const msg = `{"id":"ext-1","nonce":"abc","timestamp":1685641159,"url":"https://x.example/flyio/extensions"}`
	mac := rawMAC("s3cret", msg)
	hexSig := hex.EncodeToString(mac)
	other := hex.EncodeToString(rawMAC("other", msg))
	tests := []struct {
		name    string
		secrets []string
		msg     string
		sig     string
		want    bool
	}{
		{"lowercase hex", []string{"s3cret"}, msg, hexSig, true},
		{"uppercase hex", []string{"s3cret"}, msg, strings.ToUpper(hexSig), true},
		{"sha256= prefix", []string{"s3cret"}, msg, "sha256=" + hexSig, true},
		{"SHA256= prefix", []string{"s3cret"}, msg, "SHA256=" + hexSig, true},
		{"surrounding spaces", []string{"s3cret"}, msg, "  " + hexSig + " ", true},
		{"std base64", []string{"s3cret"}, msg, base64.StdEncoding.EncodeToString(mac), true},
		{"std base64 unpadded", []string{"s3cret"}, msg, base64.RawStdEncoding.EncodeToString(mac), true},
		{"url base64", []string{"s3cret"}, msg, base64.URLEncoding.EncodeToString(mac), true},
		{"url base64 unpadded", []string{"s3cret"}, msg, base64.RawURLEncoding.EncodeToString(mac), true},
		{"base64 after prefix", []string{"s3cret"}, msg, "sha256=" + base64.StdEncoding.EncodeToString(mac), true},
		{"rotation: old secret", []string{"s3cret", "next"}, msg, hexSig, true},
		{"rotation: new secret", []string{"old", "s3cret"}, msg, hexSig, true},
		{"wrong secret", []string{"s3cret"}, msg, other, false},
		{"no secrets", nil, msg, hexSig, false},
		{"empty secret is not a key", []string{""}, msg, hex.EncodeToString(rawMAC("", msg)), false},
		{"tampered message", []string{"s3cret"}, msg + " ", hexSig, false},
		{"truncated hex", []string{"s3cret"}, msg, hexSig[:62], false},
		{"truncated base64", []string{"s3cret"}, msg, base64.StdEncoding.EncodeToString(mac)[:40], false},
		{"extended hex", []string{"s3cret"}, msg, hexSig + "00", false},
		{"empty", []string{"s3cret"}, msg, "", false},
		{"prefix only", []string{"s3cret"}, msg, "sha256=", false},
		{"garbage", []string{"s3cret"}, msg, "not a signature", false},
		{"sha1-sized", []string{"s3cret"}, msg, hexSig[:40], false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var secrets [][]byte
			for _, s := range tt.secrets {
				secrets = append(secrets, []byte(s))
			}
			if got := Valid(secrets, []byte(tt.msg), tt.sig); got != tt.want {
				t.Errorf("Valid = %v, want %v", got, tt.want)
			}
		})
	}
}

// A MAC whose base64 contains '+' or '/' proves the URL alphabet is a
// separate accepted form rather than a coincidence of the chosen message.
func TestValidURLAlphabetDiffers(t *testing.T) {
	for i := 0; i < 1000; i++ {
		msg := strings.Repeat("m", i)
		mac := rawMAC("k", msg)
		std, url := base64.StdEncoding.EncodeToString(mac), base64.URLEncoding.EncodeToString(mac)
		if std == url {
			continue
		}
		for _, sig := range []string{std, url, strings.TrimRight(url, "=")} {
			if !Valid([][]byte{[]byte("k")}, []byte(msg), sig) {
				t.Fatalf("Valid rejected %q", sig)
			}
		}
		return
	}
	t.Fatal("no message produced a MAC with '+' or '/' in base64")
}
