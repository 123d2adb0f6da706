package signing

import (
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.etcd.io/bbolt"
)

var t0 = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

func openTestStore(t *testing.T, path string, ttl time.Duration) *NonceStore {
	t.Helper()
	s, err := OpenNonceStore(path, ttl)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func mustRemember(t *testing.T, s *NonceStore, nonce string, now time.Time, want bool) {
	t.Helper()
	fresh, err := s.Remember(nonce, now)
	if err != nil {
		t.Fatal(err)
	}
	if fresh != want {
		t.Fatalf("Remember(%q, %s) = %v, want %v", nonce, now.Format(time.TimeOnly), fresh, want)
	}
}

func TestNonceStoreRemembersWithinTTL(t *testing.T) {
	s := openTestStore(t, filepath.Join(t.TempDir(), "nonces.db"), time.Minute)
	mustRemember(t, s, "a", t0, true)
	mustRemember(t, s, "a", t0.Add(59*time.Second), false)
	mustRemember(t, s, "b", t0.Add(59*time.Second), true)
	// Once the window is over the nonce may be used again.
	mustRemember(t, s, "a", t0.Add(61*time.Second), true)
	mustRemember(t, s, "a", t0.Add(62*time.Second), false)
}

func TestNonceStoreSurvivesReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "nonces.db") // parent is created
	s, err := OpenNonceStore(path, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	mustRemember(t, s, "a", t0, true)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openTestStore(t, path, time.Minute)
	mustRemember(t, s, "a", t0.Add(time.Second), false)
}

func TestNonceStoreSecondOpenFailsClearly(t *testing.T) {
	old := openTimeout
	openTimeout = 100 * time.Millisecond
	t.Cleanup(func() { openTimeout = old })

	path := filepath.Join(t.TempDir(), "nonces.db")
	openTestStore(t, path, time.Minute)
	_, err := OpenNonceStore(path, time.Minute)
	if err == nil || !strings.Contains(err.Error(), "locked by another process") {
		t.Fatalf("second open: got %v, want a 'locked' error", err)
	}
}

func TestNonceStoreRejectsBadTTL(t *testing.T) {
	if _, err := OpenNonceStore(filepath.Join(t.TempDir(), "n.db"), 0); err == nil {
		t.Fatal("want an error for ttl 0")
	}
}

func TestNonceStorePrunesExpiredEntries(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nonces.db")
	s := openTestStore(t, path, 10*time.Second)
	// One nonce per second for ten ttl windows: the store must hold about
	// one window's worth, not everything ever seen.
	for i := 0; i < 100; i++ {
		mustRemember(t, s, fmt.Sprint("n", i), t0.Add(time.Duration(i)*time.Second), true)
	}
	var nonces, expiry int
	err := s.db.View(func(tx *bbolt.Tx) error {
		nonces = tx.Bucket(bucketNonces).Stats().KeyN
		expiry = tx.Bucket(bucketExpiry).Stats().KeyN
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if nonces > 11 || expiry != nonces {
		t.Fatalf("after pruning: %d nonces, %d expiry entries; want ≤ 11 and equal", nonces, expiry)
	}
}

func TestNonceStoreConcurrentSameNonce(t *testing.T) {
	s := openTestStore(t, filepath.Join(t.TempDir(), "nonces.db"), time.Minute)
	var wg sync.WaitGroup
	var mu sync.Mutex
	freshCount := 0
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			fresh, err := s.Remember("same", t0)
			if err != nil {
				t.Error(err)
			}
			if fresh {
				mu.Lock()
				freshCount++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if freshCount != 1 {
		t.Fatalf("%d concurrent Remember calls were fresh, want exactly 1", freshCount)
	}
}
