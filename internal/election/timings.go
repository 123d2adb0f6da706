// Package election holds the manager's leader election timings: their
// defaults, chosen from measurements, and the rules that keep two
// replicas from leading at once. It is a leaf, so the harness can read the
// defaults it measures against without linking the product.
package election

import (
	"fmt"
	"time"

	"k8s.io/client-go/tools/leaderelection"
)

// The lease timings, chosen from measurements on the envtest API server
// (docs/operations.md, "Leader election and failover"): a standby polls
// every RetryPeriod, so a released lease (graceful stop) is taken within
// 2.2 of them, under the 2 s goal; a lease renewal stalled by an API server
// restart (about 2.1 s here) is retried until RenewDeadline, which survives
// it; the lease outlasts the renew deadline plus one retry, so a leader
// that cannot renew has stopped before anyone else may lead; and a
// SIGKILLed leader is replaced within LeaseDuration plus two polls (P8).
const (
	DefaultLeaseDuration = 6 * time.Second
	DefaultRenewDeadline = 4 * time.Second
	DefaultRetryPeriod   = 500 * time.Millisecond
)

// Timings are the leader election's timings (client-go's
// LeaderElectionConfig).
type Timings struct {
	// LeaseDuration is how long a standby waits, since it last saw the
	// lease change, before it takes the lease over.
	LeaseDuration time.Duration
	// RenewDeadline is how long the leader keeps retrying a failed renewal
	// before it gives up leading, which ends the process.
	RenewDeadline time.Duration
	// RetryPeriod is how often the leader renews and a standby looks.
	RetryPeriod time.Duration
}

// WithDefaults fills the zero timings with the defaults.
func (t Timings) WithDefaults() Timings {
	if t.LeaseDuration == 0 {
		t.LeaseDuration = DefaultLeaseDuration
	}
	if t.RenewDeadline == 0 {
		t.RenewDeadline = DefaultRenewDeadline
	}
	if t.RetryPeriod == 0 {
		t.RetryPeriod = DefaultRetryPeriod
	}
	return t
}

// Validate refuses timings under which two replicas could lead at once or
// client-go would refuse to start.
func (t Timings) Validate() error {
	switch {
	case t.RetryPeriod <= 0:
		return fmt.Errorf("--leader-elect-retry-period must be positive, not %s", t.RetryPeriod)
	case t.LeaseDuration < time.Second || t.LeaseDuration%time.Second != 0:
		// The Lease object stores whole seconds; 2.5 s would be read as 2.
		return fmt.Errorf("--leader-elect-lease-duration must be a whole number of seconds, not %s", t.LeaseDuration)
	case float64(t.RenewDeadline) <= leaderelection.JitterFactor*float64(t.RetryPeriod):
		// A renewal waits up to JitterFactor retry periods between tries.
		return fmt.Errorf("--leader-elect-renew-deadline (%s) must be longer than %.1f × --leader-elect-retry-period (%s)",
			t.RenewDeadline, leaderelection.JitterFactor, t.RetryPeriod)
	case t.LeaseDuration < t.RenewDeadline+t.RetryPeriod:
		// A leader that cannot renew keeps leading until one retry period
		// plus the renew deadline after its last renewal; a standby may take
		// over one lease duration after it.
		return fmt.Errorf("--leader-elect-lease-duration (%s) must be at least --leader-elect-renew-deadline (%s) plus --leader-elect-retry-period (%s), or a standby may lead while the old leader still does",
			t.LeaseDuration, t.RenewDeadline, t.RetryPeriod)
	}
	return nil
}
