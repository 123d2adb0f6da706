package sweepers

import (
	"context"
	"fmt"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/jetway-dev/jetway/internal/domain"
)

var tombstonesPruned = prometheus.NewCounter(prometheus.CounterOpts{
	Name: "jetway_tombstones_pruned_total",
	Help: "Tombstones of deleted extensions removed after their TTL.",
})

func init() { metrics.Registry.MustRegister(tombstonesPruned) }

// +kubebuilder:rbac:groups=core,resources=configmaps,verbs=list;delete

// TombstoneSweeper removes the tombstones of extensions deleted longer ago
// than TTL. A tombstone only exists so that Fly's repeated DELETE (it
// delivers at least once) answers 200; after a TTL far beyond any retry
// window, a repeat gets 404 like any unknown id, and the cluster does not
// keep one ConfigMap per extension ever deleted.
type TombstoneSweeper struct {
	// Client lists (uncached: the cache holds tombstones only for the
	// gateway's lookups) and deletes.
	Client   client.Client
	Reader   client.Reader
	TTL      time.Duration
	Interval time.Duration
	Log      logr.Logger
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// Start sweeps every Interval until ctx ends.
func (s *TombstoneSweeper) Start(ctx context.Context) error {
	t := time.NewTicker(s.Interval)
	defer t.Stop()
	for {
		if n, err := s.Sweep(ctx); err != nil {
			s.Log.Error(err, "Tombstone sweep failed")
		} else if n > 0 {
			s.Log.Info("Pruned tombstones of long-deleted extensions", "count", n, "ttl", s.TTL)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// NeedLeaderElection is true: one replica sweeps.
func (s *TombstoneSweeper) NeedLeaderElection() bool { return true }

// Sweep removes expired tombstones and reports how many. A tombstone whose
// deletion time cannot be read is kept: losing it early would turn a
// repeated DELETE into a 404.
func (s *TombstoneSweeper) Sweep(ctx context.Context) (int, error) {
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	var list corev1.ConfigMapList
	if err := s.Reader.List(ctx, &list, client.MatchingLabels{domain.LabelTombstone: "true"}); err != nil {
		return 0, fmt.Errorf("list tombstones: %w", err)
	}
	pruned := 0
	for i := range list.Items {
		cm := &list.Items[i]
		deleted, err := time.Parse(time.RFC3339, cm.Data["deleted_at"])
		if err != nil || now().Sub(deleted) <= s.TTL {
			continue
		}
		if err := client.IgnoreNotFound(s.Client.Delete(ctx, cm, client.Preconditions{UID: &cm.UID})); err != nil {
			return pruned, fmt.Errorf("delete tombstone %s/%s: %w", cm.Namespace, cm.Name, err)
		}
		pruned++
		tombstonesPruned.Inc()
	}
	return pruned, nil
}
