package gateway

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
	"github.com/jetway-dev/jetway/internal/dev/flyside"
	"github.com/jetway-dev/jetway/internal/domain"
)

// TestDeleteBeforeFirstReconcileReleasesTheNameClaim: an Extension deleted
// before any controller put its finalizer on goes at once, so no controller
// tears it down. The gateway then does the teardown's bookkeeping itself:
// the tombstone (Fly's repeated DELETE answers 200) and the name claim
// (claims must not pile up, and the name is free for another id at once).
// A claim another id holds is left alone.
func TestDeleteBeforeFirstReconcileReleasesTheNameClaim(t *testing.T) {
	ctx := context.Background()
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{clientgoscheme.AddToScheme, jetwayv1.AddToScheme} {
		if err := add(scheme); err != nil {
			t.Fatal(err)
		}
	}
	claim := func(name, holder string) *coordinationv1.Lease {
		return &coordinationv1.Lease{
			ObjectMeta: metav1.ObjectMeta{Name: domain.NameClaimLease(name), Namespace: "claims"},
			Spec:       coordinationv1.LeaseSpec{HolderIdentity: &holder},
		}
	}
	unreconciled := func(id, name string) *jetwayv1.Extension {
		return &jetwayv1.Extension{
			ObjectMeta: metav1.ObjectMeta{Name: "ext-" + id, Namespace: "ns", UID: types.UID("uid-" + id),
				Labels: map[string]string{jetwayv1.LabelFlyIDHash: domain.Hash(id)}},
			Spec: jetwayv1.ExtensionSpec{ID: id, Name: name, PrimaryRegion: "mad"},
		}
	}
	c := withExtensionIndexes(fake.NewClientBuilder().WithScheme(scheme).
		WithObjects(unreconciled("mine", "db-one"), claim("db-one", "mine"),
			unreconciled("late", "db-two"), claim("db-two", "someone-else"))).Build()
	var handler http.Handler
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler.ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	s := testServer(t, Config{ExternalURL: srv.URL, Domain: domain.Settings{ClaimsNamespace: "claims"}}, c, scheme, eventSecret)
	handler = s.Handler()
	fly := &flyside.Client{BaseURL: srv.URL + "/flyio", Secret: []byte(eventSecret)}

	for _, tc := range []struct {
		id, name  string
		claimGone bool
	}{
		{"mine", "db-one", true},
		{"late", "db-two", false},
	} {
		resp, err := fly.Delete(ctx, tc.id)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusAccepted {
			t.Fatalf("DELETE %s: HTTP %d %s, want 202", tc.id, resp.StatusCode, resp.Body)
		}
		if tomb, err := domain.FindTombstone(ctx, c, tc.id); err != nil || tomb == nil {
			t.Fatalf("tombstone of %s: %v, %v; want one", tc.id, tomb, err)
		}
		err = c.Get(ctx, client.ObjectKeyFromObject(claim(tc.name, "")), &coordinationv1.Lease{})
		if gone := apierrors.IsNotFound(err); gone != tc.claimGone {
			t.Fatalf("claim on %s after deleting %s: gone = %v (err %v), want %v", tc.name, tc.id, gone, err, tc.claimGone)
		}
	}
}
