package gateway

import (
	"encoding/json"
	"net/netip"
	"testing"
	"unicode/utf8"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
)

// FuzzDecodeProvisionRequest feeds arbitrary bodies through decoding and
// validation. Nothing may panic, and whatever is accepted must make a spec
// the CRD accepts: a request that passes here and then fails in the API
// server would answer Fly with a 5xx instead of a clear 400.
func FuzzDecodeProvisionRequest(f *testing.F) {
	for _, seed := range []string{
		`{"name":"test","id":"test","organization_id":"04La2mblTaz","organization_name":"High Flyers","user_email":"v9WvKokd@customer.fly.io","user_id":"NeBO2G0l0yJ6","user_role":"admin","primary_region":"mad","ip_address":"fdaa:0:47fb:0:1::1d","read_regions":["syd","scl"],"url":"https://logjam.io/flyio/extensions","nonce":"e3f7b4c8f5ea016d0d2e92048ca0d856","timestamp":1685641159}`,
		`{"id":"a","name":"n","organization_id":"o","user_id":"u","options":{"eviction":true},"planId":"pro"}`,
		`{"id":"a","name":"n","organization_id":"o","user_id":"u","read_regions":null,"ip_address":null}`,
		`{"id":"a","name":"n","organization_id":"o","user_id":"u","read_regions":["syd","syd"]}`,
		`{"id":"\u0000","name":"n","organization_id":"o","user_id":"u"}`,
		`{"id":"a","name":"n","organization_id":"o","user_id":"u","ip_address":"::ffff:10.0.0.1"}`,
		`[]`, `null`, `{`, `{"id":1}`,
	} {
		f.Add([]byte(seed))
	}
	s := &Server{cfg: Config{DefaultRegion: "iad"}}
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := decodeRequest(body)
		if err != nil {
			return
		}
		if err := s.validateCreate(req); err != nil {
			return
		}
		spec := specFrom(req, "plan")
		if spec.ID == "" || len(spec.ID) > 128 || !utf8.ValidString(spec.ID) {
			t.Fatalf("accepted id %q", spec.ID)
		}
		if spec.Name == "" || len(spec.Name) > 63 || spec.Organization.ID == "" {
			t.Fatalf("accepted name %q / organization %q", spec.Name, spec.Organization.ID)
		}
		seen := map[string]bool{}
		for _, r := range append([]string{spec.PrimaryRegion}, spec.ReadRegions...) {
			if !regionPattern.MatchString(r) {
				t.Fatalf("accepted region %q", r)
			}
		}
		for _, r := range spec.ReadRegions {
			if seen[r] {
				t.Fatalf("read regions %v keep a duplicate (the CRD's listType=set rejects it)", spec.ReadRegions)
			}
			seen[r] = true
		}
		if spec.IPAddress != "" {
			if a, err := netip.ParseAddr(spec.IPAddress); err != nil || !a.Is6() || a.Is4In6() {
				t.Fatalf("accepted ip_address %q", spec.IPAddress)
			}
		}
		for name, j := range map[string]*apiextensionsv1.JSON{"options": spec.Options, "extraFields": spec.ExtraFields} {
			if j == nil {
				continue
			}
			var obj map[string]json.RawMessage
			if err := json.Unmarshal(j.Raw, &obj); err != nil {
				t.Fatalf("%s is not a JSON object: %s", name, j.Raw)
			}
			if name != "extraFields" {
				continue
			}
			for _, k := range []string{"url", "nonce", "timestamp", "id", "name"} {
				if _, ok := obj[k]; ok {
					t.Fatalf("extraFields kept %q: %s", k, j.Raw)
				}
			}
		}
	})
}
