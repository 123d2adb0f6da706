package replay

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
)

func newLedger(t *testing.T, now *time.Time) *Ledger {
	t.Helper()
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	c := fake.NewClientBuilder().WithScheme(scheme).Build()
	return &Ledger{Client: c, Live: c, Namespace: "jetway-system", Holder: "jetway-0", Now: func() time.Time { return *now }}
}

func TestClaimIsFreshOnceThenAReplay(t *testing.T) {
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	l := newLedger(t, &now)
	ctx := context.Background()
	until := now.Add(5 * time.Minute)
	if fresh, err := l.Claim(ctx, "n-1", until); err != nil || !fresh {
		t.Fatalf("first claim = %v, %v; want fresh", fresh, err)
	}
	// Another replica's ledger, same cluster.
	other := *l
	other.Holder = "jetway-1"
	if fresh, err := other.Claim(ctx, "n-1", until); err != nil || fresh {
		t.Fatalf("claim on another replica = %v, %v; want a replay", fresh, err)
	}
	if fresh, err := l.Claim(ctx, "n-2", until); err != nil || !fresh {
		t.Fatalf("another nonce = %v, %v; want fresh", fresh, err)
	}

	rec := &coordinationv1.Lease{}
	if err := l.Live.Get(ctx, client.ObjectKey{Namespace: "jetway-system", Name: RecordName("n-1")}, rec); err != nil {
		t.Fatal(err)
	}
	if got, want := Expiry(rec), until.Add(ClockMargin); !got.Equal(want) {
		t.Errorf("record expires %s, want %s (the request's last acceptable moment plus the clock margin)", got, want)
	}
	if *rec.Spec.HolderIdentity != "jetway-0" || rec.Labels[LabelRecord] != "true" {
		t.Errorf("record holder %q labels %v", *rec.Spec.HolderIdentity, rec.Labels)
	}
}

func TestConcurrentClaimsOfOneNonceHaveOneWinner(t *testing.T) {
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	l := newLedger(t, &now)
	var fresh atomic.Int32
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, err := l.Claim(context.Background(), "same", now.Add(time.Minute))
			if err != nil {
				t.Error(err)
			}
			if ok {
				fresh.Add(1)
			}
		}()
	}
	wg.Wait()
	if fresh.Load() != 1 {
		t.Fatalf("%d of 16 concurrent claims were fresh, want exactly 1", fresh.Load())
	}
}

func TestAnExpiredRecordIsTakenOver(t *testing.T) {
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	l := newLedger(t, &now)
	ctx := context.Background()
	if fresh, _ := l.Claim(ctx, "reused", now.Add(time.Minute)); !fresh {
		t.Fatal("first claim not fresh")
	}
	// Still held a moment before its expiry, margin included.
	now = now.Add(time.Minute + ClockMargin - time.Second)
	if fresh, _ := l.Claim(ctx, "reused", now.Add(time.Minute)); fresh {
		t.Fatal("claimed again before the record expired")
	}
	// Past it, not yet swept: a new request with an old nonce is served.
	now = now.Add(2 * time.Second)
	if fresh, err := l.Claim(ctx, "reused", now.Add(time.Minute)); err != nil || !fresh {
		t.Fatalf("claim after expiry = %v, %v; want fresh", fresh, err)
	}
	if fresh, _ := l.Claim(ctx, "reused", now.Add(time.Minute)); fresh {
		t.Fatal("the taken-over record does not hold the nonce")
	}
}

func TestRecordNamesAreValidWhateverTheNonce(t *testing.T) {
	for _, nonce := range []string{"", "UPPER/../with spaces", string(make([]byte, 4096))} {
		name := RecordName(nonce)
		if len(name) > 63 {
			t.Errorf("RecordName(%.20q) = %q: longer than a label", nonce, name)
		}
		if strings.Trim(name, "abcdefghijklmnopqrstuvwxyz0123456789-") != "" {
			t.Errorf("RecordName(%.20q) = %q: not a DNS name", nonce, name)
		}
	}
	if RecordName("a") == RecordName("b") {
		t.Error("two nonces share a record")
	}
}
