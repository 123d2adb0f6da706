package gateway

import (
	"context"
	"slices"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
	"github.com/jetway-dev/jetway/internal/domain"
)

// TestAReadRightAfterOwnWriteSkipsTheCache: the cache lags a write by a
// moment; for freshWindow after this replica changed an extension, GET
// reads the API server, and from the cache otherwise.
func TestAReadRightAfterOwnWriteSkipsTheCache(t *testing.T) {
	scheme := runtime.NewScheme()
	if err := jetwayv1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	ext := func(regions ...string) *jetwayv1.Extension {
		return &jetwayv1.Extension{
			ObjectMeta: metav1.ObjectMeta{Name: "ext", Namespace: "ns", Labels: map[string]string{jetwayv1.LabelFlyIDHash: domain.Hash("x")}},
			Spec:       jetwayv1.ExtensionSpec{ID: "x", Name: "n", PrimaryRegion: "ams", ReadRegions: regions},
		}
	}
	cache := withExtensionIndexes(fake.NewClientBuilder().WithScheme(scheme).WithObjects(ext())).Build()
	apiServer := fake.NewClientBuilder().WithScheme(scheme).WithObjects(ext("syd")).Build()
	s := &Server{client: cache, live: apiServer}
	read := func() []string {
		got, err := s.findForRead(context.Background(), "x")
		if err != nil || got == nil {
			t.Fatalf("find: %v %v", got, err)
		}
		return got.Spec.ReadRegions
	}
	if got := read(); len(got) != 0 {
		t.Fatalf("without a write of its own: %v, want the cache's []", got)
	}
	s.writes.wrote("x")
	if got := read(); !slices.Equal(got, []string{"syd"}) {
		t.Fatalf("right after its own write: %v, want the API server's [syd]", got)
	}
}
