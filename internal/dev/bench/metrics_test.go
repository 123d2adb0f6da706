package bench

import (
	"math"
	"testing"
)

func TestHistogramQuantileIsTheBucketBound(t *testing.T) {
	// 100 samples: 90 up to 5 ms, 9 more up to 10 ms, one beyond 50 ms.
	h := histogram{count: 100, sum: 0.5, bounds: []float64{0.005, 0.01, 0.05}, counts: []uint64{90, 99, 99}}
	for q, want := range map[float64]float64{0.5: 0.005, 0.9: 0.005, 0.95: 0.01, 0.99: 0.01, 1: math.Inf(1)} {
		if got := h.quantile(q); got != want {
			t.Errorf("quantile(%v) = %v, want %v", q, got, want)
		}
	}
	if h.mean() != 0.005 {
		t.Errorf("mean = %v, want 0.005", h.mean())
	}
	if (histogram{}).mean() != 0 {
		t.Error("the mean of no samples is not 0")
	}
}
