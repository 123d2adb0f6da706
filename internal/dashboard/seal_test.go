package dashboard

import (
	"bytes"
	"encoding/base64"
	"testing"
)

func testSecret(b byte) []byte { return bytes.Repeat([]byte{b}, MinSecretBytes) }

func TestSealOpensOnlyUntamperedValuesUnderTheirOwnName(t *testing.T) {
	s, err := newSealer([][]byte{testSecret('a')})
	if err != nil {
		t.Fatal(err)
	}
	in := Session{UserID: "u1", CSRF: "c", Expires: 42, Orgs: []Membership{{OrgID: "acme", Role: "admin"}}}
	v, err := s.seal("jetway_session", in)
	if err != nil {
		t.Fatal(err)
	}
	var out Session
	if err := s.open("jetway_session", v, &out); err != nil || out.UserID != "u1" || out.RoleIn("acme") != "admin" {
		t.Fatalf("open = %+v, %v", out, err)
	}
	// The cookie name is authenticated: a value sealed for one cookie
	// (say, an OAuth flow) is refused under another.
	if err := s.open("jetway_oauth_x", v, &out); err == nil {
		t.Fatal("a value opened under another cookie name")
	}
	raw, _ := base64.RawURLEncoding.DecodeString(v)
	for _, i := range []int{0, len(raw) / 2, len(raw) - 1} {
		flipped := bytes.Clone(raw)
		flipped[i] ^= 0x01
		if err := s.open("jetway_session", base64.RawURLEncoding.EncodeToString(flipped), &out); err == nil {
			t.Fatalf("a value with byte %d flipped opened", i)
		}
	}
	for _, bad := range []string{"", "!!!", "AAAA", v[:10]} {
		if err := s.open("jetway_session", bad, &out); err == nil {
			t.Fatalf("garbage %q opened", bad)
		}
	}
}

func TestSealRotation(t *testing.T) {
	old, _ := newSealer([][]byte{testSecret('o')})
	v, err := old.seal("n", map[string]string{"k": "v"})
	if err != nil {
		t.Fatal(err)
	}
	rotated, _ := newSealer([][]byte{testSecret('n'), testSecret('o')})
	var out map[string]string
	if err := rotated.open("n", v, &out); err != nil || out["k"] != "v" {
		t.Fatalf("a value sealed with the retiring secret did not open during rotation: %v", err)
	}
	retired, _ := newSealer([][]byte{testSecret('n')})
	if err := retired.open("n", v, &out); err == nil {
		t.Fatal("a value sealed with a retired secret still opens")
	}
}

func TestSealerRefusesShortSecrets(t *testing.T) {
	if _, err := newSealer(nil); err == nil {
		t.Fatal("no secret accepted")
	}
	if _, err := newSealer([][]byte{[]byte("short")}); err == nil {
		t.Fatal("a 5-byte secret accepted")
	}
}
