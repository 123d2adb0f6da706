package gateway

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
)

func TestDecodeRequestKeepsUnknownFieldsAndDropsSigningFields(t *testing.T) {
	body := `{"id":"x1","name":"db","organization_id":"o1","user_id":"u1","primary_region":"mad",
		"read_regions":["syd","syd","scl"],"options":{"eviction":true},
		"url":"https://p/flyio/extensions","nonce":"n","timestamp":1,
		"planId":"pro","zeta":[1,2],"alpha":{"b":1}}`
	req, err := decodeRequest([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if err := (&Server{cfg: Config{DefaultRegion: "iad"}}).validateCreate(req); err != nil {
		t.Fatal(err)
	}
	spec := specFrom(req, "starter")
	if diff := cmp.Diff([]string{"syd", "scl"}, spec.ReadRegions); diff != "" {
		t.Errorf("read regions (-want +got):\n%s", diff)
	}
	if got, want := string(spec.ExtraFields.Raw), `{"alpha":{"b":1},"planId":"pro","zeta":[1,2]}`; got != want {
		t.Errorf("extra fields = %s, want %s (sorted, signing fields dropped)", got, want)
	}
	if got := string(spec.Options.Raw); got != `{"eviction":true}` {
		t.Errorf("options = %s", got)
	}
}

func TestDecodeAndValidateErrors(t *testing.T) {
	s := &Server{cfg: Config{DefaultRegion: "iad"}}
	tests := map[string]struct {
		body string
		code string
	}{
		"not json":              {`{"id":`, "invalid_json"},
		"array":                 {`[1,2]`, "invalid_json"},
		"two objects":           {`{"id":"a"}{"id":"b"}`, "invalid_json"},
		"id wrong type":         {`{"id":5,"name":"n","organization_id":"o","user_id":"u"}`, "invalid_request"},
		"missing name":          {`{"id":"a","organization_id":"o","user_id":"u"}`, "invalid_request"},
		"missing org":           {`{"id":"a","name":"n","user_id":"u"}`, "invalid_request"},
		"missing user":          {`{"id":"a","name":"n","organization_id":"o"}`, "invalid_request"},
		"bad region":            {`{"id":"a","name":"n","organization_id":"o","user_id":"u","primary_region":"Madrid"}`, "invalid_request"},
		"bad read region":       {`{"id":"a","name":"n","organization_id":"o","user_id":"u","read_regions":["syd","x"]}`, "invalid_request"},
		"ipv4 address":          {`{"id":"a","name":"n","organization_id":"o","user_id":"u","ip_address":"10.0.0.1"}`, "invalid_request"},
		"bad role":              {`{"id":"a","name":"n","organization_id":"o","user_id":"u","user_role":"owner"}`, "invalid_request"},
		"options not an object": {`{"id":"a","name":"n","organization_id":"o","user_id":"u","options":"x"}`, "invalid_request"},
		"name too long":         {`{"id":"a","name":"` + string(make([]byte, 0)) + `aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","organization_id":"o","user_id":"u"}`, "invalid_request"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			req, err := decodeRequest([]byte(tt.body))
			if err == nil {
				err = s.validateCreate(req)
			}
			var br *badRequest
			if !errors.As(err, &br) || br.code != tt.code || br.status != 400 {
				t.Fatalf("got %v, want 400 %s", err, tt.code)
			}
		})
	}
}

func TestDefaultPrimaryRegion(t *testing.T) {
	req, _ := decodeRequest([]byte(`{"id":"a","name":"n","organization_id":"o","user_id":"u"}`))
	if err := (&Server{cfg: Config{DefaultRegion: "ord"}}).validateCreate(req); err != nil {
		t.Fatal(err)
	}
	if *req.PrimaryRegion != "ord" {
		t.Errorf("primary region = %s, want the configured default", *req.PrimaryRegion)
	}
}

func TestImmutableMismatch(t *testing.T) {
	ext := &jetwayv1.Extension{Spec: jetwayv1.ExtensionSpec{ID: "a", Name: "n", Organization: jetwayv1.OrganizationRef{ID: "o"},
		PrimaryRegion: "mad", IPAddress: "fdaa::1"}}
	str := func(s string) *string { return &s }
	for want, req := range map[string]*provisionRequest{
		"":                {Name: str("n"), OrganizationID: str("o"), PrimaryRegion: str("mad")},
		"name":            {Name: str("other")},
		"organization_id": {OrganizationID: str("o2")},
		"primary_region":  {PrimaryRegion: str("syd")},
		"ip_address":      {IPAddress: str("fdaa::2")},
	} {
		if got := immutableMismatch(ext, req); got != want {
			t.Errorf("immutableMismatch = %q, want %q", got, want)
		}
	}
}
