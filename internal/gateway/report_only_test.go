package gateway

import (
	"net/http"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
	"github.com/jetway-dev/jetway/internal/dev/flyside"
	"github.com/jetway-dev/jetway/internal/domain"
)

// TestReportOnlyAnswersAsIfTheURLMatched: a request signed for another
// url is refused with url_mismatch and counted by reason; in report-only
// mode the same request is served, and counted as waived instead.
func TestReportOnlyAnswersAsIfTheURLMatched(t *testing.T) {
	scheme := testScheme(t)
	plan := &jetwayv1.ExtensionPlan{ObjectMeta: metav1.ObjectMeta{Name: "default"}, Spec: jetwayv1.ExtensionPlanSpec{Default: true}}
	c := withExtensionIndexes(fake.NewClientBuilder().WithScheme(scheme).WithObjects(plan)).Build()
	cfg := Config{ExternalURL: "https://jetway.example.com", Domain: domain.Settings{ClaimsNamespace: "jetway-system"}}
	// Fly signs for the url it was given, which is not this gateway's.
	misdirected := &flyside.Client{BaseURL: "https://old-name.example.com/flyio", Secret: []byte(eventSecret)}
	provision := func(id string) map[string]any {
		return map[string]any{"id": id, "name": id, "organization_id": "org-1", "organization_name": "Org",
			"user_id": "u-1", "user_email": "u@example.com", "primary_region": "ams", "read_regions": []string{}}
	}

	strict := testServer(t, cfg, c, scheme, eventSecret).Handler()
	refused := testutil.ToFloat64(signingRefusals.WithLabelValues("url_mismatch"))
	rec := capture(t, misdirected, http.MethodPost, "/extensions", provision("strict-1")).sendTo(strict)
	if rec.Code != http.StatusUnauthorized || errorCode(rec) != "url_mismatch" {
		t.Fatalf("strict: HTTP %d %s, want 401 url_mismatch", rec.Code, rec.Body)
	}
	if got := testutil.ToFloat64(signingRefusals.WithLabelValues("url_mismatch")) - refused; got != 1 {
		t.Fatalf("refusals counted: %v, want 1", got)
	}

	lenient := testServer(t, cfg, c, scheme, eventSecret)
	lenient.cfg.Verifier.ReportOnlyUntil = time.Now().Add(time.Hour)
	waived := testutil.ToFloat64(signingWaived.WithLabelValues("url_mismatch"))
	req := capture(t, misdirected, http.MethodPost, "/extensions", provision("lenient-1"))
	if rec := req.sendTo(lenient.Handler()); rec.Code != http.StatusCreated {
		t.Fatalf("report-only: HTTP %d %s, want 201", rec.Code, rec.Body)
	}
	if got := testutil.ToFloat64(signingWaived.WithLabelValues("url_mismatch")) - waived; got != 1 {
		t.Fatalf("waived counted: %v, want 1", got)
	}
	// The nonce is enforced all the same.
	if rec := req.sendTo(lenient.Handler()); rec.Code != http.StatusUnauthorized || errorCode(rec) != "replayed_nonce" {
		t.Fatalf("report-only replay: HTTP %d %s, want 401 replayed_nonce", rec.Code, rec.Body)
	}
}
