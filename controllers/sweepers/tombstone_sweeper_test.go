package sweepers

import (
	"context"
	"testing"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
	"github.com/jetway-dev/jetway/internal/domain"
)

func TestTombstoneSweeperPrunesOnlyExpiredTombstones(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	c := fake.NewClientBuilder().WithScheme(scheme).Build()
	ctx := context.Background()
	for name, deletedAgo := range map[string]time.Duration{"old": 31 * 24 * time.Hour, "recent": time.Hour} {
		ext := &jetwayv1.Extension{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "fly-acme"},
			Spec: jetwayv1.ExtensionSpec{ID: name + "-id", Name: name}}
		if err := domain.WriteTombstone(ctx, c, ext, now.Add(-deletedAgo)); err != nil {
			t.Fatal(err)
		}
	}
	// Not a tombstone, however old its data looks.
	other := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "settings", Namespace: "fly-acme"},
		Data: map[string]string{"deleted_at": "2000-01-01T00:00:00Z"}}
	unreadable := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "tombstone-garbled", Namespace: "fly-acme",
		Labels: map[string]string{domain.LabelTombstone: "true"}}, Data: map[string]string{"deleted_at": "last year"}}
	for _, cm := range []client.Object{other, unreadable} {
		if err := c.Create(ctx, cm); err != nil {
			t.Fatal(err)
		}
	}

	s := &TombstoneSweeper{Client: c, Reader: c, TTL: 30 * 24 * time.Hour, Log: logr.Discard(), Now: func() time.Time { return now }}
	n, err := s.Sweep(ctx)
	if err != nil || n != 1 {
		t.Fatalf("Sweep = %d, %v; want 1 pruned", n, err)
	}
	if tomb, _ := domain.FindTombstone(ctx, c, "old-id"); tomb != nil {
		t.Error("the expired tombstone is still there")
	}
	if tomb, _ := domain.FindTombstone(ctx, c, "recent-id"); tomb == nil {
		t.Error("a recent tombstone was pruned")
	}
	var left corev1.ConfigMapList
	_ = c.List(ctx, &left)
	if len(left.Items) != 3 {
		t.Fatalf("%d ConfigMaps left, want 3 (recent, garbled, the non-tombstone)", len(left.Items))
	}
	if n, _ := s.Sweep(ctx); n != 0 {
		t.Fatalf("a second sweep pruned %d", n)
	}
}
