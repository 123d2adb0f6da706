package sweepers

import (
	"context"
	"testing"
	"time"

	"github.com/go-logr/logr"
	coordinationv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/jetway-dev/jetway/internal/replay"
)

func TestNonceRecordSweeperDeletesOnlyExpiredRecords(t *testing.T) {
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	c := fake.NewClientBuilder().WithScheme(scheme).Build()
	ctx := context.Background()
	const ns = "jetway-system"
	clock := now.Add(-10 * time.Minute)
	ledger := &replay.Ledger{Client: c, Live: c, Namespace: ns, Holder: "jetway-0", Now: func() time.Time { return clock }}
	// Written ten minutes ago: one whose request expired long since, one
	// whose request is still acceptable.
	for nonce, until := range map[string]time.Time{"old": clock.Add(time.Minute), "live": now.Add(3 * time.Minute)} {
		if fresh, err := ledger.Claim(ctx, nonce, until); err != nil || !fresh {
			t.Fatalf("claim %s: %v %v", nonce, fresh, err)
		}
	}
	// Leases that are not records are never touched, expired or not.
	seconds := int32(1)
	past := metav1.NewMicroTime(now.Add(-time.Hour))
	other := &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: "jetway-manager.jetway.dev", Namespace: ns},
		Spec: coordinationv1.LeaseSpec{RenewTime: &past, LeaseDurationSeconds: &seconds}}
	if err := c.Create(ctx, other); err != nil {
		t.Fatal(err)
	}

	s := &NonceRecordSweeper{Client: c, Reader: c, Namespace: ns, Log: logr.Discard(), Now: func() time.Time { return now }}
	n, err := s.Sweep(ctx)
	if err != nil || n != 1 {
		t.Fatalf("Sweep = %d, %v; want 1 deleted", n, err)
	}
	var left coordinationv1.LeaseList
	if err := c.List(ctx, &left, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, l := range left.Items {
		names[l.Name] = true
	}
	if names[replay.RecordName("old")] || !names[replay.RecordName("live")] || !names[other.Name] || len(names) != 2 {
		t.Fatalf("left %v; want the live record and the leader election Lease", names)
	}
}
