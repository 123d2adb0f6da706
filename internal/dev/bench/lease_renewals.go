package bench

import (
	"context"
	"fmt"
	"sync"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// leaseName is the manager's leader election Lease (its default
// --leader-election-id), in the namespace the stack elects in.
var leaseName = client.ObjectKey{Namespace: "default", Name: "jetway-manager.jetway.dev"}

// watchRenewals reads the leader's Lease every 100 ms until ctx ends and
// times the gaps between one holder's successive renewals: a retry period
// plus how long the renewal before took, which is what a renew deadline
// must outlast. The returned func stops it and says what it saw.
func watchRenewals(ctx context.Context, s *stack) func() string {
	ctx, cancel := context.WithCancel(ctx)
	var (
		mu     sync.Mutex
		gaps   []time.Duration
		holder string
		last   time.Time
		wg     sync.WaitGroup
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for ctx.Err() == nil {
			var l coordinationv1.Lease
			if err := s.k8s.Get(ctx, leaseName, &l); err == nil && l.Spec.HolderIdentity != nil && l.Spec.RenewTime != nil {
				renewed := l.Spec.RenewTime.Time
				mu.Lock()
				if *l.Spec.HolderIdentity == holder && renewed.After(last) {
					gaps = append(gaps, renewed.Sub(last))
				}
				if *l.Spec.HolderIdentity != holder || renewed.After(last) {
					holder, last = *l.Spec.HolderIdentity, renewed
				}
				mu.Unlock()
			}
			select {
			case <-ctx.Done():
			case <-time.After(100 * time.Millisecond):
			}
		}
	}()
	return func() string {
		cancel()
		wg.Wait()
		mu.Lock()
		defer mu.Unlock()
		if len(gaps) == 0 {
			return "no lease renewal seen"
		}
		return fmt.Sprintf("lease renewed every p50 %.0f ms, p99 %.0f ms, at most %.0f ms apart (%d renewals)",
			percentile(gaps, 50), percentile(gaps, 99), ms(maxDuration(gaps)), len(gaps))
	}
}

func maxDuration(ds []time.Duration) time.Duration {
	var m time.Duration
	for _, d := range ds {
		m = max(m, d)
	}
	return m
}
