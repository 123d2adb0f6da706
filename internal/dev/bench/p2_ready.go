package bench

import (
	"context"
	"fmt"
	"time"
)

// criticalCalls are the Machines API calls that must happen one after
// another before an extension with one machine can be Ready, whoever makes
// them: create the app, set the credentials as secrets (a machine reads
// them when it boots), create the machine, and one read that sees it
// started. The Flycast address can be assigned beside them.
const criticalCalls = 4

// measureReady runs P2 (POST to Ready) and P7 (the first webhook after
// the status change) on one workload: extensions provisioned at P2Rate.
func measureReady(ctx context.Context, cfg Config) (p2, p7 Result) {
	p2 = Result{ID: "P2", Figure: "POST to Ready, p99", Unit: "ms", Goal: "≤ 1.2× floor"}
	p7 = Result{ID: "P7", Figure: "first webhook after a status change, p99", Unit: "ms", Goal: "p99 ≤ 1 s"}
	fail := func(err error) (Result, Result) {
		p2.Err, p7.Err = err.Error(), err.Error()
		return p2, p7
	}
	s, err := startStack(ctx, cfg, "p2", stackOptions{})
	if err != nil {
		return fail(err)
	}
	defer s.close()
	n := cfg.scaled(cfg.P2Extensions, 2)
	fmt.Fprintf(cfg.Progress, "bench: P2/P7: provisioning %d extensions at %.1f/s\n", n, cfg.P2Rate)
	timeout := time.Duration(float64(n)/cfg.P2Rate*float64(time.Second)) + 2*time.Minute
	exts, err := provisionAndWatch(ctx, s, "p2", "", n, cfg.P2Rate, timeout, cfg.Progress)
	if err != nil {
		return fail(err)
	}

	var toReady []time.Duration
	for _, e := range exts {
		toReady = append(toReady, e.readyAt.Sub(e.postAt))
	}
	grace, err := checkGrace(ctx, s.k8s, "")
	if err != nil {
		return fail(err)
	}
	floor := criticalCalls*cfg.FlyLatency + cfg.BootTime + grace
	p2.Value, p2.Floor = percentile(toReady, 99), ms(floor)
	p2.Ratio = ratio(p2.Value, p2.Floor)
	p2.Met = p2.Ratio > 0 && p2.Ratio <= 1.2
	p2.Detail = fmt.Sprintf("p50 %.0f ms, p99 %.0f ms over %d extensions posted at %.1f/s; floor = %d calls × %s flysim latency + %s boot + %s until the plan's checks first pass",
		percentile(toReady, 50), p2.Value, n, cfg.P2Rate, criticalCalls, cfg.FlyLatency, cfg.BootTime, grace)

	afterReady, missing, err := firstWebhooks(ctx, s, exts)
	if err != nil {
		p7.Err = err.Error()
		return p2, p7
	}
	floorSamples, err := watchLatency(ctx, s, 20)
	if err != nil {
		p7.Err = err.Error()
		return p2, p7
	}
	p7.Value, p7.Floor = percentile(afterReady, 99), percentile(floorSamples, 99)
	p7.Ratio = ratio(p7.Value, p7.Floor)
	p7.Met = missing == 0 && p7.Value <= 1000
	p7.Detail = fmt.Sprintf("p50 %.0f ms, p99 %.0f ms from a watch seeing Ready to Fly receiving the webhook saying so, %d extensions (%d never notified); floor = a write seen by a watch, p50 %.0f ms",
		percentile(afterReady, 50), p7.Value, len(afterReady), missing, percentile(floorSamples, 50))
	return p2, p7
}

// firstWebhooks is, per extension, the time from a watch seeing it Ready
// to flysim's webhook endpoint receiving the first webhook that says so.
// It waits up to 30 s for the last ones.
func firstWebhooks(ctx context.Context, s *stack, exts []*provisioned) ([]time.Duration, int, error) {
	deadline := time.Now().Add(30 * time.Second)
	for {
		first := map[string]time.Time{}
		for _, d := range s.sim.WebhookDeliveries() {
			if d.Resource["status"] != "ready" {
				continue
			}
			if t, ok := first[d.ResourceID]; !ok || d.ReceivedAt.Before(t) {
				first[d.ResourceID] = d.ReceivedAt
			}
		}
		var out []time.Duration
		missing := 0
		for _, e := range exts {
			at, ok := first[e.id]
			if !ok {
				missing++
				continue
			}
			out = append(out, max(0, at.Sub(e.readyAt)))
		}
		if missing == 0 || time.Now().After(deadline) {
			return out, missing, nil
		}
		select {
		case <-ctx.Done():
			return nil, 0, ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}
