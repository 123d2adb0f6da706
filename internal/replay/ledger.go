package replay

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
)

// LabelRecord marks the Leases that record accepted nonces, so the sweeper
// lists them and nothing else (name claims and the leader election Lease
// share the namespace).
const LabelRecord = "jetway.dev/accepted-nonce"

// ClockMargin is added to every record's life: replicas' clocks differ a
// little, and a replica whose clock runs behind accepts a timestamp for
// that much longer than the one that wrote the record computed.
const ClockMargin = time.Minute

// leasePrefix names the records; a name claim starts "extension-name-".
const leasePrefix = "accepted-nonce-"

// fieldOwner names the gateway's writes of the records in managedFields.
const fieldOwner = client.FieldOwner("jetway-gateway")

// Ledger claims nonces cluster-wide. Safe for concurrent use.
type Ledger struct {
	// Client creates and updates the records. It must write to the API
	// server (controller-runtime's client does); Live reads them uncached,
	// so no replica ever holds every record in memory.
	Client client.Client
	Live   client.Reader
	// Namespace holds the records: the manager's own, where the leader
	// election Role already grants Leases.
	Namespace string
	// Holder names this replica in each record it writes (the pod name),
	// for whoever reads them while debugging.
	Holder string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Claim records nonce as used until until (when its request stops being
// acceptable; ClockMargin is added here) and reports whether this call was
// the first to use it. A false answer means the request is a replay, sent
// to this replica or to any other. An error means the API server could not
// say: the caller must not serve the request.
func (l *Ledger) Claim(ctx context.Context, nonce string, until time.Time) (fresh bool, err error) {
	began := time.Now()
	defer func() { observeClaim(began, fresh, err) }()
	now := l.now()
	record := l.record(nonce, now, until.Add(ClockMargin))
	// Two rounds: a record found expired and swept between our create and
	// our read is gone, and the second create settles it.
	for range 2 {
		err := l.Client.Create(ctx, record.DeepCopy(), fieldOwner)
		if err == nil {
			return true, nil
		}
		if !apierrors.IsAlreadyExists(err) {
			return false, fmt.Errorf("record nonce: %w", err)
		}
		held := &coordinationv1.Lease{}
		err = l.Live.Get(ctx, client.ObjectKeyFromObject(record), held)
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			return false, fmt.Errorf("read nonce record %s: %w", record.Name, err)
		}
		if Expiry(held).After(now) {
			return false, nil
		}
		// The sender used the nonce again after its old request expired;
		// the signature covers a new timestamp, so this is a new request.
		// Take the record over: a conflict means another replica took this
		// same request at the same moment, so ours is the replay.
		held.Spec = record.Spec
		if err := l.Client.Update(ctx, held, fieldOwner); apierrors.IsConflict(err) {
			return false, nil
		} else if err != nil {
			return false, fmt.Errorf("renew nonce record %s: %w", record.Name, err)
		}
		return true, nil
	}
	return false, fmt.Errorf("record nonce: record %s kept disappearing", record.Name)
}

func (l *Ledger) now() time.Time {
	if l.Now != nil {
		return l.Now()
	}
	return time.Now()
}

// record is the Lease that says nonce is used from now until expiry.
func (l *Ledger) record(nonce string, now, expiry time.Time) *coordinationv1.Lease {
	seconds := int32(min(math.MaxInt32, math.Ceil(expiry.Sub(now).Seconds())))
	seconds = max(seconds, 1)
	at := metav1.NewMicroTime(now)
	holder := l.Holder
	return &coordinationv1.Lease{
		ObjectMeta: metav1.ObjectMeta{
			Name:      RecordName(nonce),
			Namespace: l.Namespace,
			Labels:    map[string]string{jetwayv1.LabelManagedBy: jetwayv1.ManagedByJetway, LabelRecord: "true"},
		},
		Spec: coordinationv1.LeaseSpec{
			HolderIdentity: &holder, LeaseDurationSeconds: &seconds,
			AcquireTime: &at, RenewTime: &at,
		},
	}
}

// RecordName is the Lease recording nonce: a hash, so the name is a valid
// object name whatever the sender put in the nonce, and the nonce itself
// is not shown to whoever may list Leases.
func RecordName(nonce string) string {
	sum := sha256.Sum256([]byte(nonce))
	return leasePrefix + hex.EncodeToString(sum[:20])
}

// Expiry is when a record stops holding its nonce: renewTime plus its
// duration, as for any Lease. A record without them has expired.
func Expiry(l *coordinationv1.Lease) time.Time {
	if l.Spec.RenewTime == nil || l.Spec.LeaseDurationSeconds == nil {
		return time.Time{}
	}
	return l.Spec.RenewTime.Add(time.Duration(*l.Spec.LeaseDurationSeconds) * time.Second)
}
