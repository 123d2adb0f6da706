package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
	"github.com/jetway-dev/jetway/internal/dev/flyside"
	"github.com/jetway-dev/jetway/internal/domain"
	"github.com/jetway-dev/jetway/internal/replay"
)

// captured is a signed request as it went over the wire, to be sent again.
type captured struct {
	method, target string
	body           []byte
	header         http.Header
}

func capture(t *testing.T, fly *flyside.Client, method, path string, body map[string]any) captured {
	t.Helper()
	req, err := fly.SignedRequest(context.Background(), method, path, body)
	if err != nil {
		t.Fatal(err)
	}
	var raw []byte
	if req.Body != nil {
		raw, _ = io.ReadAll(req.Body)
	}
	return captured{method: method, target: req.URL.String(), body: raw, header: req.Header}
}

// sendTo replays the captured bytes to one replica's handler.
func (c captured) sendTo(h http.Handler) *httptest.ResponseRecorder {
	req := httptest.NewRequest(c.method, c.target, bytes.NewReader(c.body))
	req.Header = c.header.Clone()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// TestAReplayToAnotherReplicaChangesNothing is the hole issue 16 found: a
// PATCH to replica A, a later PATCH to A, then the first replayed to
// replica B behind the same URL. B has never seen the nonce in its own
// store; the shared ledger refuses it. Without the ledger (the control
// case) B takes it and reverts the later change, so the test can fail.
func TestAReplayToAnotherReplicaChangesNothing(t *testing.T) {
	for _, shared := range []bool{true, false} {
		t.Run(map[bool]string{true: "with the ledger", false: "local stores only"}[shared], func(t *testing.T) {
			scheme := testScheme(t)
			plan := &jetwayv1.ExtensionPlan{ObjectMeta: metav1.ObjectMeta{Name: "default"}, Spec: jetwayv1.ExtensionPlanSpec{Default: true}}
			c := withExtensionIndexes(fake.NewClientBuilder().WithScheme(scheme).WithObjects(plan)).Build()
			const external = "https://jetway.example.com"
			replica := func(name string) http.Handler {
				cfg := Config{ExternalURL: external, Domain: domain.Settings{ClaimsNamespace: "jetway-system"}}
				if shared {
					cfg.ReplayLedger = &replay.Ledger{Client: c, Live: c, Namespace: "jetway-system", Holder: name}
				}
				return testServer(t, cfg, c, scheme, eventSecret).Handler()
			}
			a, b := replica("a"), replica("b")
			fly := &flyside.Client{BaseURL: external + "/flyio", Secret: []byte(eventSecret)}

			create := capture(t, fly, http.MethodPost, "/extensions", map[string]any{
				"id": "ext-1", "name": "db-one", "organization_id": "org-1", "organization_name": "Org One", "user_id": "user-1", "user_email": "u@example.com", "primary_region": "ams", "read_regions": []string{},
			})
			if rec := create.sendTo(a); rec.Code != http.StatusCreated && rec.Code != http.StatusAccepted {
				t.Fatalf("POST to A: HTTP %d %s", rec.Code, rec.Body)
			}
			first := capture(t, fly, http.MethodPatch, "/extensions/ext-1", map[string]any{"read_regions": []string{"syd"}})
			later := capture(t, fly, http.MethodPatch, "/extensions/ext-1", map[string]any{"read_regions": []string{"fra"}})
			for _, req := range []captured{first, later} {
				if rec := req.sendTo(a); rec.Code != http.StatusOK {
					t.Fatalf("PATCH to A: HTTP %d %s", rec.Code, rec.Body)
				}
			}
			get := capture(t, fly, http.MethodGet, "/extensions/ext-1", nil)
			if rec := get.sendTo(a); rec.Code != http.StatusOK {
				t.Fatalf("GET to A: HTTP %d %s", rec.Code, rec.Body)
			}

			replayed := first.sendTo(b)
			regions := readRegions(t, c, "ext-1")
			if !shared {
				if replayed.Code != http.StatusOK || !slices.Equal(regions, []string{"syd"}) {
					t.Fatalf("control: B answered %d and left %v; the hole should show as 200 and a revert to [syd]", replayed.Code, regions)
				}
				return
			}
			if code := errorCode(replayed); replayed.Code != http.StatusUnauthorized || code != "replayed_nonce" {
				t.Fatalf("PATCH replayed to B: HTTP %d %q, want 401 replayed_nonce", replayed.Code, code)
			}
			if !slices.Equal(regions, []string{"fra"}) {
				t.Fatalf("read regions after the replay = %v, want the later change [fra] kept", regions)
			}
			if rec := create.sendTo(b); rec.Code != http.StatusUnauthorized || errorCode(rec) != "replayed_nonce" {
				t.Fatalf("POST replayed to B: HTTP %d %s, want 401 replayed_nonce", rec.Code, rec.Body)
			}
			// A GET changes nothing: B serves its first sight of it, and the
			// ledger got no write for it.
			if rec := get.sendTo(b); rec.Code != http.StatusOK {
				t.Fatalf("GET replayed to B: HTTP %d %s, want 200", rec.Code, rec.Body)
			}
			if rec := get.sendTo(b); rec.Code != http.StatusUnauthorized {
				t.Fatalf("GET replayed to B twice: HTTP %d, want 401 from B's own store", rec.Code)
			}
		})
	}
}

func readRegions(t *testing.T, c client.Client, id string) []string {
	t.Helper()
	ext, err := domain.FindExtensionByID(context.Background(), c, c, id)
	if err != nil || ext == nil {
		t.Fatalf("find %s: %v, %v", id, ext, err)
	}
	return ext.Spec.ReadRegions
}

func errorCode(rec *httptest.ResponseRecorder) string {
	var body struct {
		Error string `json:"error"`
	}
	_ = json.Unmarshal(rec.Body.Bytes(), &body)
	return body.Error
}
