package bench

import (
	"slices"
	"time"
)

// percentile is the nearest-rank percentile p (0–100) of ds, in ms.
func percentile(ds []time.Duration, p int) float64 {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := (len(s)*p + 99) / 100
	return ms(s[max(0, min(i-1, len(s)-1))])
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
