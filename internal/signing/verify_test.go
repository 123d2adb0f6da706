package signing

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const (
	testSecret = "fly-shared-secret"
	testURL    = "https://jetway.example/flyio/extensions"
)

// signedRequest is what a test sends: the signed bytes, the header and the
// params the gateway would parse out of those bytes.
type signedRequest struct {
	msg    []byte
	sig    string
	params Params
}

// postRequest builds a POST body the way Fly does and signs it.
func postRequest(t *testing.T, secret string, ts any, nonce, u string) signedRequest {
	t.Helper()
	body := fmt.Sprintf(`{"name":"db","id":"ext-1","timestamp":%s,"nonce":%q,"url":%q}`, jsonValue(ts), nonce, u)
	p, err := ParamsFromJSON([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	return signedRequest{msg: []byte(body), sig: Sign([]byte(secret), []byte(body)), params: p}
}

func jsonValue(v any) string {
	if s, ok := v.(string); ok {
		return fmt.Sprintf("%q", s)
	}
	return fmt.Sprint(v)
}

// getRequest builds a GET query the way Fly does and signs the raw string.
func getRequest(t *testing.T, secret string, ts time.Time, nonce, u string) signedRequest {
	t.Helper()
	raw := "timestamp=" + fmt.Sprint(ts.Unix()) + "&nonce=" + url.QueryEscape(nonce) + "&url=" + url.QueryEscape(u)
	q, err := url.ParseQuery(raw)
	if err != nil {
		t.Fatal(err)
	}
	p, err := ParamsFromQuery(q)
	if err != nil {
		t.Fatal(err)
	}
	return signedRequest{msg: []byte(raw), sig: Sign([]byte(secret), []byte(raw)), params: p}
}

func newVerifier(t *testing.T, secrets ...string) *Verifier {
	t.Helper()
	v := &Verifier{
		Nonces: openTestStore(t, filepath.Join(t.TempDir(), "nonces.db"), 5*time.Minute),
		Now:    func() time.Time { return t0 },
	}
	for _, s := range secrets {
		v.Secrets = append(v.Secrets, []byte(s))
	}
	return v
}

func TestVerify(t *testing.T) {
	now := t0.Unix()
	good := func(t *testing.T) signedRequest { return postRequest(t, testSecret, now, "n-1", testURL) }
	tests := []struct {
		name     string
		secrets  []string
		req      func(t *testing.T) signedRequest
		expected string // expectedURL; testURL when empty
		wantCode string // "" accepts
	}{
		{"valid POST", nil, good, "", ""},
		{"valid GET signs the raw query", nil, func(t *testing.T) signedRequest {
			return getRequest(t, testSecret, t0, "n-1", testURL+"/ext-1")
		}, testURL + "/ext-1", ""},
		{"timestamp as string", nil, func(t *testing.T) signedRequest {
			return postRequest(t, testSecret, fmt.Sprint(now), "n-1", testURL)
		}, "", ""},
		{"no signature header", nil, func(t *testing.T) signedRequest {
			r := good(t)
			r.sig = ""
			return r
		}, "", CodeMissingSignature},
		{"blank signature header", nil, func(t *testing.T) signedRequest {
			r := good(t)
			r.sig = "   "
			return r
		}, "", CodeMissingSignature},
		{"wrong secret", nil, func(t *testing.T) signedRequest {
			return postRequest(t, "someone-else", now, "n-1", testURL)
		}, "", CodeBadSignature},
		{"truncated signature", nil, func(t *testing.T) signedRequest {
			r := good(t)
			r.sig = r.sig[:len(r.sig)-2]
			return r
		}, "", CodeBadSignature},
		{"body changed after signing", nil, func(t *testing.T) signedRequest {
			r := good(t)
			r.msg = []byte(strings.Replace(string(r.msg), `"db"`, `"db2"`, 1))
			return r
		}, "", CodeBadSignature},
		{"uppercase hex", nil, func(t *testing.T) signedRequest {
			r := good(t)
			r.sig = strings.ToUpper(r.sig)
			return r
		}, "", ""},
		{"base64 with prefix", nil, func(t *testing.T) signedRequest {
			r := good(t)
			b, _ := hex.DecodeString(r.sig)
			r.sig = "sha256=" + base64.StdEncoding.EncodeToString(b)
			return r
		}, "", ""},
		{"base64url unpadded", nil, func(t *testing.T) signedRequest {
			r := good(t)
			b, _ := hex.DecodeString(r.sig)
			r.sig = base64.RawURLEncoding.EncodeToString(b)
			return r
		}, "", ""},
		{"rotation: signed with the old secret", []string{"new-secret", testSecret}, good, "", ""},
		{"rotation: signed with the new secret", []string{testSecret, "old-secret"}, good, "", ""},
		{"rotation: signed with neither", []string{"new-secret", "old-secret"}, good, "", CodeBadSignature},
		{"missing timestamp", nil, func(t *testing.T) signedRequest {
			return signBody(t, `{"nonce":"n-1","url":"`+testURL+`"}`)
		}, "", CodeMissingParam},
		{"missing nonce", nil, func(t *testing.T) signedRequest {
			return signBody(t, fmt.Sprintf(`{"timestamp":%d,"url":%q}`, now, testURL))
		}, "", CodeMissingParam},
		{"missing url", nil, func(t *testing.T) signedRequest {
			return signBody(t, fmt.Sprintf(`{"timestamp":%d,"nonce":"n-1"}`, now))
		}, "", CodeMissingParam},
		{"url on another host", nil, func(t *testing.T) signedRequest {
			return postRequest(t, testSecret, now, "n-1", "https://other.example/flyio/extensions")
		}, "", CodeURLMismatch},
		{"url with another path", nil, func(t *testing.T) signedRequest {
			return postRequest(t, testSecret, now, "n-1", "https://jetway.example/flyio/extensions/ext-2")
		}, "", CodeURLMismatch},
		{"url path differs only in case", nil, func(t *testing.T) signedRequest {
			return postRequest(t, testSecret, now, "n-1", "https://jetway.example/FLYIO/extensions")
		}, "", CodeURLMismatch},
		{"url with another scheme", nil, func(t *testing.T) signedRequest {
			return postRequest(t, testSecret, now, "n-1", "http://jetway.example/flyio/extensions")
		}, "", CodeURLMismatch},
		{"url with another port", nil, func(t *testing.T) signedRequest {
			return postRequest(t, testSecret, now, "n-1", "https://jetway.example:8443/flyio/extensions")
		}, "", CodeURLMismatch},
		{"relative url", nil, func(t *testing.T) signedRequest {
			return postRequest(t, testSecret, now, "n-1", "/flyio/extensions")
		}, "", CodeURLMismatch},
		{"url host case and default port are ignored", nil, func(t *testing.T) signedRequest {
			return postRequest(t, testSecret, now, "n-1", "HTTPS://Jetway.Example:443/flyio/extensions")
		}, "", ""},
		{"url query is ignored", nil, func(t *testing.T) signedRequest {
			return postRequest(t, testSecret, now, "n-1", testURL+"?x=1")
		}, "", ""},
		{"escaped id in url", nil, func(t *testing.T) signedRequest {
			return getRequest(t, testSecret, t0, "n-1", testURL+"/a%20b")
		}, testURL + "/a%20b", ""},
		{"timestamp 301s in the past", nil, func(t *testing.T) signedRequest {
			return postRequest(t, testSecret, now-301, "n-1", testURL)
		}, "", CodeStaleTimestamp},
		{"timestamp 301s in the future", nil, func(t *testing.T) signedRequest {
			return postRequest(t, testSecret, now+301, "n-1", testURL)
		}, "", CodeStaleTimestamp},
		{"timestamp exactly 300s off", nil, func(t *testing.T) signedRequest {
			return postRequest(t, testSecret, now-300, "n-1", testURL)
		}, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			secrets := tt.secrets
			if secrets == nil {
				secrets = []string{testSecret}
			}
			v := newVerifier(t, secrets...)
			expected := tt.expected
			if expected == "" {
				expected = testURL
			}
			r := tt.req(t)
			err := v.Verify(r.msg, r.sig, r.params, expected)
			checkErrCode(t, err, tt.wantCode)
			var se *Error
			if errors.As(err, &se) {
				// Messages are shown to users: no secrets, no expected MAC.
				for _, s := range secrets {
					if strings.Contains(se.Message, s) || strings.Contains(se.Message, Sign([]byte(s), r.msg)) {
						t.Errorf("message leaks a secret or the expected signature: %q", se.Message)
					}
				}
				if se.Message == "" || !strings.HasSuffix(se.Message, ".") {
					t.Errorf("message %q is not a sentence", se.Message)
				}
			}
		})
	}
}

func signBody(t *testing.T, body string) signedRequest {
	t.Helper()
	p, err := ParamsFromJSON([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	return signedRequest{msg: []byte(body), sig: Sign([]byte(testSecret), []byte(body)), params: p}
}

func TestVerifyRejectsReplay(t *testing.T) {
	v := newVerifier(t, testSecret)
	r := postRequest(t, testSecret, t0.Unix(), "n-1", testURL)
	if err := v.Verify(r.msg, r.sig, r.params, testURL); err != nil {
		t.Fatalf("first request: %v", err)
	}
	err := v.Verify(r.msg, r.sig, r.params, testURL)
	checkErrCode(t, err, CodeReplayedNonce)
}

func TestVerifyReplayAcrossRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nonces.db")
	r := postRequest(t, testSecret, t0.Unix(), "n-1", testURL)
	store, err := OpenNonceStore(path, 5*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	v := &Verifier{Secrets: [][]byte{[]byte(testSecret)}, Nonces: store, Now: func() time.Time { return t0 }}
	if err := v.Verify(r.msg, r.sig, r.params, testURL); err != nil {
		t.Fatalf("first request: %v", err)
	}
	if err := store.Close(); err != nil {
		t.Fatal(err)
	}
	v.Nonces = openTestStore(t, path, 5*time.Minute)
	v.Now = func() time.Time { return t0.Add(10 * time.Second) }
	checkErrCode(t, v.Verify(r.msg, r.sig, r.params, testURL), CodeReplayedNonce)
}

// A nonce is spent only by a request that passed every other check, so an
// attacker cannot burn Fly's nonces (or fill the store) with junk.
func TestVerifyRemembersNonceOnlyWhenAccepted(t *testing.T) {
	v := newVerifier(t, testSecret)
	for _, r := range []signedRequest{
		postRequest(t, "wrong", t0.Unix(), "n-1", testURL),
		postRequest(t, testSecret, t0.Unix()-3600, "n-1", testURL),
		postRequest(t, testSecret, t0.Unix(), "n-1", "https://evil.example/flyio/extensions"),
	} {
		if err := v.Verify(r.msg, r.sig, r.params, testURL); err == nil {
			t.Fatal("bad request accepted")
		}
	}
	r := postRequest(t, testSecret, t0.Unix(), "n-1", testURL)
	if err := v.Verify(r.msg, r.sig, r.params, testURL); err != nil {
		t.Fatalf("good request after rejected ones: %v", err)
	}
}

// With a sender clock ahead of ours, a request stays acceptable until its
// timestamp + MaxSkew; the nonce must be kept that long even if the store's
// ttl is shorter.
func TestVerifyKeepsNonceWhileTimestampAcceptable(t *testing.T) {
	v := newVerifier(t, testSecret)
	v.Nonces = openTestStore(t, filepath.Join(t.TempDir(), "short.db"), time.Minute)
	r := postRequest(t, testSecret, t0.Unix()+290, "n-1", testURL)
	if err := v.Verify(r.msg, r.sig, r.params, testURL); err != nil {
		t.Fatal(err)
	}
	v.Now = func() time.Time { return t0.Add(500 * time.Second) } // ttl long gone, timestamp still fine
	checkErrCode(t, v.Verify(r.msg, r.sig, r.params, testURL), CodeReplayedNonce)
}

func TestVerifyCustomMaxSkew(t *testing.T) {
	v := newVerifier(t, testSecret)
	v.MaxSkew = 30 * time.Second
	r := postRequest(t, testSecret, t0.Unix()-31, "n-1", testURL)
	checkErrCode(t, v.Verify(r.msg, r.sig, r.params, testURL), CodeStaleTimestamp)
}

func TestVerifyWithoutNonceStore(t *testing.T) {
	v := &Verifier{Secrets: [][]byte{[]byte(testSecret)}, Now: func() time.Time { return t0 }}
	r := postRequest(t, testSecret, t0.Unix(), "n-1", testURL)
	for i := 0; i < 2; i++ {
		if err := v.Verify(r.msg, r.sig, r.params, testURL); err != nil {
			t.Fatal(err)
		}
	}
}

func TestVerifyConfigErrorsArePlain(t *testing.T) {
	r := postRequest(t, testSecret, t0.Unix(), "n-1", testURL)
	noSecrets := &Verifier{Secrets: [][]byte{nil}, Now: func() time.Time { return t0 }}
	checkErrCode(t, noSecrets.Verify(r.msg, r.sig, r.params, testURL), "plain")
	v := newVerifier(t, testSecret)
	checkErrCode(t, v.Verify(r.msg, r.sig, r.params, "/flyio/extensions"), "plain")
}
