package signing

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// NonceStore remembers the nonces of accepted requests so a captured request
// cannot be replayed. It lives in a bbolt file so a gateway restart does not
// open a replay window. Safe for concurrent use.
//
// Layout: bucket "nonces" maps sha256(nonce) → expiry; bucket "expiry" holds
// keys expiry‖sha256(nonce) in time order, so pruning reads the oldest
// entries first without scanning. Hashing the nonce keeps keys a fixed size
// whatever length the sender chose.
type NonceStore struct {
	db  *bbolt.DB
	ttl time.Duration
}

var (
	bucketNonces = []byte("nonces")
	bucketExpiry = []byte("expiry")
)

// pruneBatch bounds the work one write does on expired entries. Pruning more
// than one entry per insert means the file shrinks back to what the current
// window holds instead of growing without bound.
const pruneBatch = 64

// openTimeout is how long to wait for bbolt's file lock; a var so tests need
// not wait the full time.
var openTimeout = 5 * time.Second

// OpenNonceStore opens (or creates) the store at path. Entries are kept for
// ttl after they are remembered. bbolt holds an exclusive file lock, so a
// second process using the same file fails after a timeout instead of
// hanging forever.
func OpenNonceStore(path string, ttl time.Duration) (*NonceStore, error) {
	if ttl <= 0 {
		return nil, fmt.Errorf("open nonce store %s: ttl must be positive, got %s", path, ttl)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("open nonce store: %w", err)
	}
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: openTimeout})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, fmt.Errorf("open nonce store %s: file is locked by another process (is another gateway running with the same data directory?): %w", path, err)
	}
	if err != nil {
		return nil, fmt.Errorf("open nonce store %s: %w", path, err)
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		for _, name := range [][]byte{bucketNonces, bucketExpiry} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open nonce store %s: create buckets: %w", path, err)
	}
	return &NonceStore{db: db, ttl: ttl}, nil
}

// Remember records nonce as seen at now and reports whether it was fresh,
// i.e. not remembered within the ttl. Check and set happen in one bbolt
// transaction, so two concurrent requests with the same nonce cannot both
// be fresh.
func (s *NonceStore) Remember(nonce string, now time.Time) (fresh bool, err error) {
	return s.rememberUntil(nonce, now, now.Add(s.ttl))
}

// rememberUntil is Remember with an explicit expiry, so Verify can keep a
// nonce for as long as its timestamp would still be accepted, which can be
// longer than ttl when the sender's clock runs ahead.
func (s *NonceStore) rememberUntil(nonce string, now, expiry time.Time) (fresh bool, err error) {
	id := sha256.Sum256([]byte(nonce))
	nowKey := timeKey(now)
	err = s.db.Update(func(tx *bbolt.Tx) error {
		nonces, byExpiry := tx.Bucket(bucketNonces), tx.Bucket(bucketExpiry)
		if err := prune(nonces, byExpiry, nowKey); err != nil {
			return err
		}
		if old := nonces.Get(id[:]); old != nil {
			if bytes.Compare(old, nowKey) > 0 {
				return nil // still within its window: a replay
			}
			// Expired but not yet pruned: replace it.
			if err := byExpiry.Delete(append(append([]byte{}, old...), id[:]...)); err != nil {
				return err
			}
		}
		fresh = true
		exp := timeKey(expiry)
		if err := nonces.Put(id[:], exp); err != nil {
			return err
		}
		return byExpiry.Put(append(timeKey(expiry), id[:]...), nil)
	})
	if err != nil {
		return false, fmt.Errorf("remember nonce: %w", err)
	}
	return fresh, nil
}

// prune deletes up to pruneBatch entries whose expiry is not after now. Keys
// are collected before deleting because a bbolt cursor may skip an element
// after Delete.
func prune(nonces, byExpiry *bbolt.Bucket, nowKey []byte) error {
	var expired [][]byte
	c := byExpiry.Cursor()
	for k, _ := c.First(); k != nil && len(expired) < pruneBatch; k, _ = c.Next() {
		if bytes.Compare(k[:8], nowKey) > 0 {
			break
		}
		expired = append(expired, append([]byte{}, k...))
	}
	for _, k := range expired {
		if err := byExpiry.Delete(k); err != nil {
			return err
		}
		// Only drop the nonce if this entry is still its current one.
		if bytes.Equal(nonces.Get(k[8:]), k[:8]) {
			if err := nonces.Delete(k[8:]); err != nil {
				return err
			}
		}
	}
	return nil
}

// timeKey encodes t as big-endian unix nanoseconds so byte order is time
// order. Times before 1970 clamp to zero (they only come from broken clocks).
func timeKey(t time.Time) []byte {
	ns := t.UnixNano()
	if ns < 0 {
		ns = 0
	}
	return binary.BigEndian.AppendUint64(nil, uint64(ns))
}

// Close releases the file and its lock.
func (s *NonceStore) Close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("close nonce store: %w", err)
	}
	return nil
}
