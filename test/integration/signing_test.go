package integration

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/onsi/gomega"

	"github.com/jetway-dev/jetway/internal/dev/flyside"
	"github.com/jetway-dev/jetway/internal/signing"
)

// TestSigningContractRejections: every request that breaks the signing
// contract, or asks for something impossible, gets its status and stable
// error code, and nothing is created in Kubernetes or on Fly.
func TestSigningContractRejections(t *testing.T) {
	ctx := ctxFor(t)
	orgID := uniqueID("org")
	before := currentCounts(t)

	// fresh is a valid request for an id nobody has used.
	fresh := func(t *testing.T) (string, map[string]any) {
		id := uniqueID("sig")
		return id, provisionRequest(id, "rejected-"+id, orgID)
	}
	cases := []struct {
		name   string
		status int
		code   string
		call   func(t *testing.T, body map[string]any) (*flyside.Response, error)
	}{
		{"missing X-Signature", http.StatusUnauthorized, signing.CodeMissingSignature,
			func(t *testing.T, body map[string]any) (*flyside.Response, error) {
				req, err := flyAPI.SignedRequest(ctx, http.MethodPost, "/extensions", body)
				if err != nil {
					return nil, err
				}
				req.Header.Del("X-Signature")
				return send(t, req), nil
			}},
		{"wrong secret", http.StatusUnauthorized, signing.CodeBadSignature,
			func(t *testing.T, body map[string]any) (*flyside.Response, error) {
				other := &flyside.Client{BaseURL: flyAPI.BaseURL, Secret: []byte("not-the-shared-secret")}
				return other.Create(ctx, body)
			}},
		{"stale timestamp", http.StatusUnauthorized, signing.CodeStaleTimestamp,
			func(t *testing.T, body map[string]any) (*flyside.Response, error) {
				late := &flyside.Client{BaseURL: flyAPI.BaseURL, Secret: secret,
					Now: func() time.Time { return time.Now().Add(-10 * time.Minute) }}
				return late.Create(ctx, body)
			}},
		{"signed for another endpoint", http.StatusUnauthorized, signing.CodeURLMismatch,
			func(t *testing.T, body map[string]any) (*flyside.Response, error) {
				body["timestamp"] = time.Now().Unix()
				body["nonce"] = uniqueID("nonce")
				body["url"] = "https://other-provider.example/flyio/extensions"
				raw := mustJSON(t, body)
				return send(t, rawRequest(t, http.MethodPost, "/extensions", raw, signing.Sign(secret, raw))), nil
			}},
		{"body over the limit", http.StatusRequestEntityTooLarge, "body_too_large",
			func(t *testing.T, body map[string]any) (*flyside.Response, error) {
				body["padding"] = strings.Repeat("x", 200<<10)
				return flyAPI.Create(ctx, body)
			}},
		{"malformed JSON", http.StatusBadRequest, "invalid_json",
			func(t *testing.T, body map[string]any) (*flyside.Response, error) {
				raw := mustJSON(t, body)
				raw = raw[:len(raw)-1] // drop the closing brace
				return send(t, rawRequest(t, http.MethodPost, "/extensions", raw, signing.Sign(secret, raw))), nil
			}},
		{"missing organization_id", http.StatusBadRequest, "invalid_request",
			func(t *testing.T, body map[string]any) (*flyside.Response, error) {
				delete(body, "organization_id")
				return flyAPI.Create(ctx, body)
			}},
		{"missing name", http.StatusBadRequest, "invalid_request",
			func(t *testing.T, body map[string]any) (*flyside.Response, error) {
				delete(body, "name")
				return flyAPI.Create(ctx, body)
			}},
		{"unknown plan", http.StatusUnprocessableEntity, "unknown_plan",
			func(t *testing.T, body map[string]any) (*flyside.Response, error) {
				body["plan"] = "no-such-plan"
				return flyAPI.Create(ctx, body)
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			id, body := fresh(t)
			resp, err := tc.call(t, body)
			expectError(t, resp, err, tc.status, tc.code)
			ext, err := findExtension(ctx, id)
			if err != nil || ext != nil {
				t.Fatalf("a rejected request left extension %v (err %v)", ext, err)
			}
		})
	}
	// Give the controllers the chance to do something they should not.
	newG(t).Consistently(func() counts { return currentCounts(t) }).Should(gomega.Equal(before))
}

// TestSigningContractReplayAndConflicts: a captured request cannot be
// replayed; the id and the name of an existing extension cannot be reused
// for something else; unknown fields are kept.
func TestSigningContractReplayAndConflicts(t *testing.T) {
	g := newG(t)
	ctx := ctxFor(t)
	id := uniqueID("sig")
	name := "kept-" + id
	body := provisionRequest(id, name, uniqueID("org"))
	body["region_hint"] = map[string]any{"zone": "b", "weight": 3}
	body["beta"] = true

	// The same signed bytes twice: the second is a replay.
	req, err := flyAPI.SignedRequest(ctx, http.MethodPost, "/extensions", body)
	g.Expect(err).NotTo(gomega.HaveOccurred())
	raw, err := io.ReadAll(req.Body)
	g.Expect(err).NotTo(gomega.HaveOccurred())
	sig := req.Header.Get("X-Signature")
	first := send(t, rawRequest(t, http.MethodPost, "/extensions", raw, sig))
	cleanupExtension(t, id)
	g.Expect(first.StatusCode).To(gomega.Equal(http.StatusCreated), "body: %s", first.Body)
	replay := send(t, rawRequest(t, http.MethodPost, "/extensions", raw, sig))
	expectError(t, replay, nil, http.StatusUnauthorized, signing.CodeReplayedNonce)

	ext := waitReady(t, id)

	// Unknown fields are accepted and kept verbatim; the signing fields are not.
	g.Expect(ext.Spec.ExtraFields).NotTo(gomega.BeNil())
	var extra map[string]any
	g.Expect(json.Unmarshal(ext.Spec.ExtraFields.Raw, &extra)).To(gomega.Succeed())
	g.Expect(extra).To(gomega.Equal(map[string]any{
		"region_hint": map[string]any{"zone": "b", "weight": float64(3)},
		"beta":        true,
	}))

	before := currentCounts(t)

	// Same id, different name.
	other := provisionRequest(id, "renamed-"+id, ext.Spec.Organization.ID)
	resp, err := flyAPI.Create(ctx, other)
	expectError(t, resp, err, http.StatusConflict, "conflict")

	// Different id, a name already taken.
	thief := uniqueID("sig")
	resp, err = flyAPI.Create(ctx, provisionRequest(thief, name, uniqueID("org")))
	expectError(t, resp, err, http.StatusConflict, "name_taken")
	stolen, err := findExtension(ctx, thief)
	g.Expect(err).NotTo(gomega.HaveOccurred())
	g.Expect(stolen).To(gomega.BeNil())

	g.Consistently(func() counts { return currentCounts(t) }).Should(gomega.Equal(before))
	after := waitReady(t, id)
	g.Expect(after.Spec.Name).To(gomega.Equal(name))
	g.Expect(after.Generation).To(gomega.Equal(ext.Generation))
}
