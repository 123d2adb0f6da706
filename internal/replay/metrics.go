package replay

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

// claimDuration is what the ledger adds to every changing request: make
// bench reads it beside P1.
var claimDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
	Name:    "jetway_replay_claim_duration_seconds",
	Help:    "Time to claim an accepted request's nonce in the cluster-wide ledger, by result (fresh, replayed, error).",
	Buckets: []float64{.001, .002, .003, .005, .0075, .01, .015, .02, .03, .05, .1, .25, .5, 1, 2.5},
}, []string{"result"})

func init() { metrics.Registry.MustRegister(claimDuration) }

func observeClaim(began time.Time, fresh bool, err error) {
	result := "fresh"
	switch {
	case err != nil:
		result = "error"
	case !fresh:
		result = "replayed"
	}
	claimDuration.WithLabelValues(result).Observe(time.Since(began).Seconds())
}
