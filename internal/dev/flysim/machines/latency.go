package machines

import (
	"math"
	"math/rand/v2"
	"time"
)

// Request latency. Real API latency is skewed: most calls are quick and a
// few are very slow, which a fixed delay never shows. A log-normal with a
// given median and 95th percentile is the usual model for that shape.

// z95 is the standard normal distribution's 95th percentile.
const z95 = 1.6448536269514722

// maxLatency caps a sample at what Fly's proxy would let a request take;
// the log-normal tail is unbounded and one absurd draw would stall a test
// for no insight.
const maxLatency = 60 * time.Second

// lognormal draws a latency whose median is p50 and whose 95th percentile is
// p95. p50 == 0 means no latency; p95 == p50 gives exactly p50.
func lognormal(rng *rand.Rand, p50, p95 time.Duration) time.Duration {
	if p50 <= 0 {
		return 0
	}
	mu := math.Log(float64(p50))
	sigma := (math.Log(float64(p95)) - mu) / z95
	d := math.Exp(mu + sigma*rng.NormFloat64())
	if d >= float64(maxLatency) {
		return maxLatency
	}
	return time.Duration(d)
}
