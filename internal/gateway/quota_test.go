package gateway

import (
	"encoding/json"
	"net/http"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
	"github.com/jetway-dev/jetway/internal/dev/flyside"
	"github.com/jetway-dev/jetway/internal/domain"
)

// TestQuotasBoundOneOrganization: the provider-wide bound, an
// Organization's own quota over it, and a plan's quota each refuse what
// would pass them with 422 quota_exceeded, for POST and for a PATCH that
// adds machines; other organizations and shrinking changes are untouched.
func TestQuotasBoundOneOrganization(t *testing.T) {
	scheme := testScheme(t)
	def := &jetwayv1.ExtensionPlan{ObjectMeta: metav1.ObjectMeta{Name: "small"}, Spec: jetwayv1.ExtensionPlanSpec{Default: true}}
	big := &jetwayv1.ExtensionPlan{ObjectMeta: metav1.ObjectMeta{Name: "big"},
		Spec: jetwayv1.ExtensionPlanSpec{Quota: &jetwayv1.Quota{MaxMachines: ptr.To[int32](2)}}}
	// A customer the provider trusts with more.
	trusted := &jetwayv1.Organization{ObjectMeta: metav1.ObjectMeta{Name: domain.OrganizationName("trusted")},
		Spec: jetwayv1.OrganizationSpec{ID: "trusted", Quota: &jetwayv1.Quota{MaxExtensions: ptr.To[int32](3)}}}
	c := withExtensionIndexes(fake.NewClientBuilder().WithScheme(scheme).WithObjects(def, big, trusted)).Build()
	const external = "https://jetway.example.com"
	h := testServer(t, Config{ExternalURL: external, Domain: domain.Settings{ClaimsNamespace: "jetway-system"},
		Quotas: Quotas{MaxExtensions: 2, MaxMachines: 4}}, c, scheme, eventSecret).Handler()
	fly := &flyside.Client{BaseURL: external + "/flyio", Secret: []byte(eventSecret)}
	send := func(method, path string, body map[string]any) (int, string) {
		rec := capture(t, fly, method, path, body).sendTo(h)
		var answer struct {
			Error   string `json:"error"`
			Message string `json:"message"`
		}
		_ = json.Unmarshal(rec.Body.Bytes(), &answer)
		return rec.Code, answer.Error + ": " + answer.Message
	}
	post := func(id, org, plan string, readRegions ...string) (int, string) {
		body := map[string]any{"id": id, "name": id, "organization_id": org, "organization_name": org,
			"user_id": "u", "user_email": "u@example.com", "primary_region": "ams", "read_regions": append([]string{}, readRegions...)}
		if plan != "" {
			body["plan"] = plan
		}
		return send(http.MethodPost, "/extensions", body)
	}
	expect := func(what string, code int, msg string, want int) {
		t.Helper()
		if code != want {
			t.Fatalf("%s: HTTP %d %s, want %d", what, code, msg, want)
		}
		if want == http.StatusUnprocessableEntity && msg[:len("quota_exceeded")] != "quota_exceeded" {
			t.Fatalf("%s: %s, want quota_exceeded", what, msg)
		}
	}

	code, msg := post("a1", "acme", "")
	expect("first", code, msg, http.StatusCreated)
	code, msg = post("a2", "acme", "", "syd")
	expect("second", code, msg, http.StatusCreated)
	code, msg = post("a3", "acme", "")
	expect("third extension past the provider-wide 2", code, msg, http.StatusUnprocessableEntity)
	t.Log(msg)
	code, msg = post("o1", "other", "")
	expect("another organization", code, msg, http.StatusCreated)

	// acme runs 3 machines of 4: a PATCH adding two replicas passes it.
	code, msg = send(http.MethodPatch, "/extensions/a1", map[string]any{"read_regions": []string{"fra", "syd"}})
	expect("PATCH past 4 machines", code, msg, http.StatusUnprocessableEntity)
	code, msg = send(http.MethodPatch, "/extensions/a2", map[string]any{"read_regions": []string{}})
	expect("PATCH that shrinks", code, msg, http.StatusOK)

	for _, id := range []string{"t1", "t2", "t3"} {
		code, msg = post(id, "trusted", "")
		expect("within the organization's own quota of 3", code, msg, http.StatusCreated)
	}
	code, msg = post("t4", "trusted", "")
	expect("past the organization's own quota", code, msg, http.StatusUnprocessableEntity)

	code, msg = post("b1", "other", "big", "syd", "fra")
	expect("3 machines on a plan allowing 2", code, msg, http.StatusUnprocessableEntity)
	code, msg = post("b1", "other", "big", "syd")
	expect("2 machines on a plan allowing 2", code, msg, http.StatusCreated)
}
