package bench

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
)

// extensionController selects the Extension controller's series among
// controller-runtime's reconcile counters.
var extensionController = map[string]string{"controller": "extension"}

// measureIdleCost runs P6: the Fly API calls an idle Ready extension costs
// per resync, counted at flysim. The manager resyncs every P6Resync (each
// requeue jittered by up to 20%, so 1.1× on average) and its orphan
// sweeper is off, so every call counted is the Extension controller's look.
// The default plan is priced, so each look also meters: the figure counts
// what metering costs at Fly, and the detail shows that the ledgers moved.
func measureIdleCost(ctx context.Context, cfg Config) Result {
	r := Result{ID: "P6", Figure: "Fly calls per idle Ready extension per resync", Unit: "calls", Floor: 1, Goal: "≤ 1"}
	s, err := startStack(ctx, cfg, "p6", stackOptions{managerArgs: []string{
		"--resync", cfg.P6Resync.String(), "--sweep-interval", "0",
	}})
	if err != nil {
		r.Err = err.Error()
		return r
	}
	defer s.close()
	n := cfg.scaled(cfg.P6Extensions, 2)
	fmt.Fprintf(cfg.Progress, "bench: P6: provisioning %d extensions, then leaving them idle\n", n)
	if _, err := provisionAndWatch(ctx, s, "p6", "", n, cfg.P2Rate, time.Duration(float64(n)/cfg.P2Rate*float64(time.Second))+2*time.Minute, cfg.Progress); err != nil {
		r.Err = err.Error()
		return r
	}
	// Let the passes that brought them to Ready, and their first resync,
	// finish before counting.
	settle := 2 * cfg.P6Resync
	time.Sleep(settle)
	hc := &http.Client{Timeout: 10 * time.Second}
	passesURL := "http://" + s.metricsAddrs[0] + "/metrics"
	passesBefore, err := scrapeSum(ctx, hc, passesURL, "controller_runtime_reconcile_total", extensionController)
	if err != nil {
		r.Err = err.Error()
		return r
	}
	before := s.sim.Requests()
	start := time.Now()
	idle := time.Duration(cfg.P6Resyncs) * cfg.P6Resync * 11 / 10
	fmt.Fprintf(cfg.Progress, "bench: P6: counting Fly calls for %s\n", idle.Round(time.Second))
	select {
	case <-ctx.Done():
		r.Err = ctx.Err().Error()
		return r
	case <-time.After(idle):
	}
	after := s.sim.Requests()
	elapsed := time.Since(start)
	passesAfter, err := scrapeSum(ctx, hc, passesURL, "controller_runtime_reconcile_total", extensionController)
	if err != nil {
		r.Err = err.Error()
		return r
	}
	passes := passesAfter - passesBefore
	metered, err := meteredSince(ctx, s, start)
	if err != nil {
		r.Err = err.Error()
		return r
	}
	calls := 0
	byAction := map[string]int{}
	for action, c := range after {
		if d := c - before[action]; d > 0 {
			calls += d
			byAction[action] = d
		}
	}
	// Per pass, counted by the manager itself: idle extensions have no
	// pass but their resync, and the jitter makes the number of resyncs in
	// a window vary by one per extension.
	if passes <= 0 {
		r.Err = fmt.Sprintf("no pass of the Extension controller in %s of idling", elapsed.Round(time.Second))
		return r
	}
	periods := elapsed.Seconds() / (cfg.P6Resync.Seconds() * 1.1)
	r.Value = float64(calls) / passes
	r.Ratio = ratio(r.Value, r.Floor)
	r.Met = r.Value <= 1
	var parts []string
	for _, a := range slices.Sorted(maps.Keys(byAction)) {
		parts = append(parts, fmt.Sprintf("%s %d", a, byAction[a]))
	}
	r.Detail = fmt.Sprintf("%d calls in %.0f resync passes of %d idle extensions over %s (about %.1f resyncs of %s each): %s; metering on: %s",
		calls, passes, n, elapsed.Round(time.Millisecond), periods, cfg.P6Resync, strings.Join(parts, ", "), metered)
	return r
}

// meteredSince says how many UsageLedgers a look has proven past since, and
// at what prices their running segments are metered: that the looks P6
// counts are the meter's too.
func meteredSince(ctx context.Context, s *stack, since time.Time) (string, error) {
	var ledgers jetwayv1.UsageLedgerList
	if err := s.k8s.List(ctx, &ledgers); err != nil {
		return "", fmt.Errorf("list usage ledgers: %w", err)
	}
	proven := 0
	prices := map[int64]bool{}
	for _, l := range ledgers.Items {
		moved := len(l.Spec.Machines) > 0
		for _, mu := range l.Spec.Machines {
			if mu.ProvenThrough == nil || mu.ProvenThrough.Time.Before(since) {
				moved = false
			}
			for _, seg := range mu.Segments {
				prices[seg.UnitPriceMicrosPerHour] = true
			}
		}
		if moved {
			proven++
		}
	}
	return fmt.Sprintf("%d of %d usage ledgers proven during the count, segments priced %v micros an hour",
		proven, len(ledgers.Items), slices.Sorted(maps.Keys(prices))), nil
}
