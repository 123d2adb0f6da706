package flysign

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The expected MACs were computed outside Go, with
// `printf '%s' "$message" | openssl dgst -sha256 -hmac "$secret" -hex`,
// so these vectors check Sign against HMAC-SHA256 itself rather than
// against another Go implementation that could share its mistakes.
var vectors = []struct {
	name, secret, message, mac string
}{
	{
		"webhook body (the spec's example, line 263)", "webhook-secret",
		`{"timestamp":"1693513586","action":"resource.updated","resource":{"plan":"scaler_pro","id":"5lgmabb3y30","status":"ready"}}`,
		"503ce2b13c6754f1e9137cbd488b874d2aace7591e14f64821fe6b1376cdb703",
	},
	{
		"GET query string, without '?'", "provisioning-secret",
		"timestamp=1685641159&nonce=e3f7b4c8f5ea016d0d2e92048ca0d856&url=https%3A%2F%2Flogjam.io%2Fflyio%2Fextensions%2Ftest",
		"73c681fe1f11c3d721b1956fa326ea4e43703a6347ac453d4bbcdba5f818228b",
	},
	{
		"event message", "events-secret",
		"id1\nio.fly.machine.started\n/apps/a/machines/m\n2024-01-02T03:04:05.5Z\n{\"x\":1}",
		"b618997bcc6635f28a46d8de7365ea698442cb49d99110a84170ff9f45e21e71",
	},
}

func TestSignKnownAnswers(t *testing.T) {
	for _, v := range vectors {
		if got := Sign([]byte(v.secret), []byte(v.message)); got != v.mac {
			t.Errorf("%s: Sign = %s, want %s", v.name, got, v.mac)
		}
		if !Valid([]byte(v.secret), []byte(v.message), v.mac) {
			t.Errorf("%s: Valid rejects its own MAC", v.name)
		}
	}
}

func TestValidIsStrict(t *testing.T) {
	v := vectors[0]
	secret, msg := []byte(v.secret), []byte(v.message)
	raw, _ := hex.DecodeString(v.mac)
	for name, sig := range map[string]string{
		"uppercase hex":   strings.ToUpper(v.mac),
		"base64":          base64.StdEncoding.EncodeToString(raw),
		"sha256= prefix":  "sha256=" + v.mac,
		"truncated":       v.mac[:63],
		"other secret":    Sign([]byte("not-the-secret"), msg),
		"other message":   Sign(secret, append([]byte(v.message), ' ')),
		"empty":           "",
		"surrounding gap": " " + v.mac,
	} {
		if Valid(secret, msg, sig) {
			t.Errorf("%s: Valid accepted %q", name, sig)
		}
	}
	if Valid(nil, msg, Sign(nil, msg)) {
		t.Error("an empty secret validated a MAC anyone can compute")
	}
}

func TestEventMessage(t *testing.T) {
	got := string(EventMessage("id1", "io.fly.machine.started", "/apps/a/machines/m", "2024-01-02T03:04:05.5Z", []byte(`{"x":1}`)))
	if got != vectors[2].message {
		t.Fatalf("EventMessage = %q, want %q", got, vectors[2].message)
	}
}

func TestVerifyJSON(t *testing.T) {
	secret := []byte("webhook-secret")
	now := time.Date(2023, 9, 1, 12, 0, 0, 0, time.UTC)
	const endpoint = "http://fly.test/api/hooks/extensions/logjam"
	v := Verifier{Secret: secret, Now: func() time.Time { return now }}
	unix := func(d time.Duration) string { return strconv.FormatInt(now.Add(d).Unix(), 10) }
	body := func(ts, extra string) string {
		return `{"timestamp":` + ts + `,"nonce":"n1","url":"` + endpoint + `"` + extra + `}`
	}
	tests := []struct {
		name, body, sig string // sig "" means the body's own signature
		url             string
		code            string // "" valid; "object" ErrNotObject
	}{
		{"string timestamp", body(`"`+unix(0)+`"`, ""), "", endpoint, ""},
		{"number timestamp", body(unix(0), ""), "", endpoint, ""},
		{"edge of the window", body(unix(-MaxSkew), ""), "", endpoint, ""},
		{"default port and host case", body(unix(0), ""), "", "http://FLY.test:80/api/hooks/extensions/logjam", ""},
		{"no signature", body(unix(0), ""), "-", endpoint, CodeMissingSignature},
		{"bad signature", body(unix(0), ""), Sign([]byte("x"), []byte("y")), endpoint, CodeBadSignature},
		{"not an object", `[1]`, "", endpoint, "object"},
		{"stale", body(unix(-MaxSkew-time.Second), ""), "", endpoint, CodeStaleTimestamp},
		{"future", body(unix(MaxSkew+time.Second), ""), "", endpoint, CodeStaleTimestamp},
		{"fractional timestamp", body(unix(0)+".5", ""), "", endpoint, CodeMissingParam},
		{"word timestamp", body(`"soon"`, ""), "", endpoint, CodeMissingParam},
		{"nonce not a string", `{"timestamp":` + unix(0) + `,"nonce":1,"url":"` + endpoint + `"}`, "", endpoint, CodeMissingParam},
		{"no nonce", `{"timestamp":` + unix(0) + `,"url":"` + endpoint + `"}`, "", endpoint, CodeMissingParam},
		{"other path", body(unix(0), ""), "", "http://fly.test/api/hooks/extensions/other", CodeURLMismatch},
		{"other scheme", body(unix(0), ""), "", "https://fly.test/api/hooks/extensions/logjam", CodeURLMismatch},
	}
	for _, tc := range tests {
		sig := tc.sig
		switch sig {
		case "":
			sig = Sign(secret, []byte(tc.body))
		case "-":
			sig = ""
		}
		p, err := v.VerifyJSON([]byte(tc.body), sig, tc.url)
		var fe *Error
		switch {
		case tc.code == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.code == "" && (p.Nonce != "n1" || p.URL != endpoint || !p.HasTimestamp):
			t.Errorf("%s: params %+v", tc.name, p)
		case tc.code == "object" && !errors.Is(err, ErrNotObject):
			t.Errorf("%s: got %v, want ErrNotObject", tc.name, err)
		case tc.code != "" && tc.code != "object" && (!errors.As(err, &fe) || fe.Code != tc.code || fe.Message == ""):
			t.Errorf("%s: got %v, want %s", tc.name, err, tc.code)
		}
	}
	if _, err := (Verifier{}).VerifyJSON([]byte(`{}`), "ab", endpoint); err == nil || errors.As(err, new(*Error)) {
		t.Errorf("no secret: got %v, want the caller's error", err)
	}
}
