package sweepers

import (
	"context"
	"fmt"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/jetway-dev/jetway/internal/replay"
)

var (
	nonceRecordsPruned = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "jetway_nonce_records_pruned_total",
		Help: "Replay records (Leases of accepted request nonces) deleted once their requests could no longer be accepted.",
	})
	nonceRecordsLive = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "jetway_nonce_records",
		Help: "Replay records left after the last sweep: about the changing requests of the last timestamp window.",
	})
)

func init() { metrics.Registry.MustRegister(nonceRecordsPruned, nonceRecordsLive) }

// nonceRecordPage bounds one list call: the records of a busy window can
// number in the tens of thousands.
const nonceRecordPage = 500

// NonceRecordSweeper deletes the gateway's replay records (see package
// replay) once they have expired. A record outliving its expiry does no
// harm (the ledger takes an expired record over), so a slow or failed
// sweep only leaves objects behind for longer.
type NonceRecordSweeper struct {
	// Client deletes; Reader lists uncached (no replica caches records).
	Client    client.Client
	Reader    client.Reader
	Namespace string
	Interval  time.Duration
	Log       logr.Logger
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// Start sweeps every Interval until ctx ends.
func (s *NonceRecordSweeper) Start(ctx context.Context) error {
	t := time.NewTicker(s.Interval)
	defer t.Stop()
	for {
		if n, err := s.Sweep(ctx); err != nil {
			s.Log.Error(err, "Nonce record sweep failed")
		} else if n > 0 {
			s.Log.V(1).Info("Deleted expired nonce records", "count", n)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// NeedLeaderElection is true: one replica sweeps.
func (s *NonceRecordSweeper) NeedLeaderElection() bool { return true }

// Sweep deletes the expired records and reports how many, page by page.
// Each delete is conditional on the version read, so a record another
// replica has just taken over for a new request is left alone.
func (s *NonceRecordSweeper) Sweep(ctx context.Context) (int, error) {
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	pruned, live := 0, 0
	cont := ""
	for {
		var page coordinationv1.LeaseList
		err := s.Reader.List(ctx, &page, client.InNamespace(s.Namespace), client.HasLabels{replay.LabelRecord},
			client.Limit(nonceRecordPage), client.Continue(cont))
		if err != nil {
			return pruned, fmt.Errorf("list nonce records: %w", err)
		}
		for i := range page.Items {
			rec := &page.Items[i]
			if replay.Expiry(rec).After(now()) {
				live++
				continue
			}
			rv := rec.ResourceVersion
			err := s.Client.Delete(ctx, rec, client.Preconditions{ResourceVersion: &rv})
			if client.IgnoreNotFound(err) != nil && !apierrors.IsConflict(err) {
				return pruned, fmt.Errorf("delete nonce record %s: %w", rec.Name, err)
			}
			if err == nil {
				pruned++
				nonceRecordsPruned.Inc()
			}
		}
		if cont = page.Continue; cont == "" {
			break
		}
	}
	nonceRecordsLive.Set(float64(live))
	return pruned, nil
}
