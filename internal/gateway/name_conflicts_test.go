package gateway

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
	"github.com/jetway-dev/jetway/internal/dev/flyside"
	"github.com/jetway-dev/jetway/internal/domain"
)

// TestNameConflictsFollowThePlan: a name another extension holds is
// refused with 409 on a plan that rejects, and answered with a unique name
// on one that renames; a repeat of the renamed request is the same
// request, answered with the same name.
func TestNameConflictsFollowThePlan(t *testing.T) {
	scheme := testScheme(t)
	strict := &jetwayv1.ExtensionPlan{ObjectMeta: metav1.ObjectMeta{Name: "strict"}, Spec: jetwayv1.ExtensionPlanSpec{Default: true}}
	lenient := &jetwayv1.ExtensionPlan{ObjectMeta: metav1.ObjectMeta{Name: "lenient"},
		Spec: jetwayv1.ExtensionPlanSpec{NameConflicts: ptr.To(jetwayv1.NameConflictsRename)}}
	c := withExtensionIndexes(fake.NewClientBuilder().WithScheme(scheme).WithObjects(strict, lenient)).Build()
	const external = "https://jetway.example.com"
	h := testServer(t, Config{ExternalURL: external, Domain: domain.Settings{ClaimsNamespace: "jetway-system"}}, c, scheme, eventSecret).Handler()
	fly := &flyside.Client{BaseURL: external + "/flyio", Secret: []byte(eventSecret)}
	post := func(id, name, plan string) (int, map[string]any) {
		body := map[string]any{"id": id, "name": name, "organization_id": "org-" + id, "organization_name": "Org",
			"user_id": "u-" + id, "user_email": "u@example.com", "primary_region": "ams", "read_regions": []string{}}
		if plan != "" {
			body["plan"] = plan
		}
		rec := capture(t, fly, http.MethodPost, "/extensions", body).sendTo(h)
		var answer map[string]any
		_ = json.Unmarshal(rec.Body.Bytes(), &answer)
		return rec.Code, answer
	}

	if code, _ := post("first", "orders-db", ""); code != http.StatusCreated {
		t.Fatalf("first POST: %d", code)
	}
	if code, answer := post("second", "orders-db", ""); code != http.StatusConflict || answer["error"] != "name_taken" {
		t.Fatalf("taken name on a rejecting plan: %d %v, want 409 name_taken", code, answer)
	}
	code, answer := post("third", "Orders-DB", "lenient") // the same DNS label
	renamed, _ := answer["name"].(string)
	if code != http.StatusCreated || !strings.HasPrefix(renamed, "orders-db-") || len(renamed) != len("orders-db-")+6 {
		t.Fatalf("taken name on a renaming plan: %d name %q, want 201 with orders-db-<6 characters>", code, renamed)
	}
	ext, err := domain.FindExtensionByID(t.Context(), c, c, "third")
	if err != nil || ext.Spec.Name != renamed || ext.Annotations[jetwayv1.AnnotationRequestedName] != "Orders-DB" {
		t.Fatalf("stored: %+v %v; want the new name and the requested one in its annotation", ext, err)
	}
	if code, again := post("third", "Orders-DB", "lenient"); code != http.StatusOK || again["name"] != renamed {
		t.Fatalf("repeat of the renamed request: %d name %v, want 200 %s", code, again["name"], renamed)
	}
	if code, _ := post("fourth", renamed, "lenient"); code != http.StatusCreated {
		t.Fatalf("the renamed name taken in turn: %d, want another unique name", code)
	}
}
