package bench

import (
	"context"
	"fmt"
	"time"
)

// Fly's limit on creating apps, which every new extension does once:
// flysim keeps it per organization, 1 a second with bursts of 3
// (research/fly-protocol.md §7.7; internal/dev/flysim/machines/ratelimit.go).
const (
	appCreatesPerSecond = 1.0
	appCreateBurst      = 3.0
)

// measureThroughput runs P4: P4Extensions provisioned at once, and the
// rate at which they become Ready with Fly's rate limits on, beside the
// rate those limits allow.
func measureThroughput(ctx context.Context, cfg Config) Result {
	r := Result{ID: "P4", Figure: "extensions brought to Ready per second, Fly's limits on", Unit: "/s"}
	s, err := startStack(ctx, cfg, "p4", stackOptions{})
	if err != nil {
		r.Err = err.Error()
		return r
	}
	defer s.close()
	n := cfg.scaled(cfg.P4Extensions, 4)
	fmt.Fprintf(cfg.Progress, "bench: P4: provisioning %d extensions at once\n", n)
	exts, err := provisionAndWatch(ctx, s, "p4", "", n, 0, time.Duration(n)*3*time.Second+2*time.Minute, cfg.Progress)
	if err != nil {
		r.Err = err.Error()
		return r
	}
	first, last := exts[0].postAt, exts[0].readyAt
	for _, e := range exts {
		if e.postAt.Before(first) {
			first = e.postAt
		}
		if e.readyAt.After(last) {
			last = e.readyAt
		}
	}
	took := last.Sub(first)
	r.Value = float64(n) / took.Seconds()
	// The fastest Fly lets n apps be created: a burst, then one a second.
	r.Floor = float64(n) / max((float64(n)-appCreateBurst)/appCreatesPerSecond, 1)
	r.Ratio = ratio(r.Value, r.Floor)
	goal := min(10, 0.9*r.Floor)
	self429 := s.sim.Stats().RateLimited
	r.Goal = fmt.Sprintf("≥ %.2f/s (10/s, or 90%% of Fly's limit), 0 self-caused 429s", goal)
	r.Met = r.Value >= goal && self429 == 0
	r.Detail = fmt.Sprintf("%d extensions Ready %s after the first POST; Fly answered 429 %d times; floor = Fly's app creation limit (%g/s, bursts of %g) for %d apps",
		n, took.Round(time.Millisecond), self429, appCreatesPerSecond, appCreateBurst, n)
	return r
}
