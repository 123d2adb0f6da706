package bench

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"time"
)

// Run measures the figures cfg asks for, one stack each, and returns the
// table. It fails only when it cannot run at all; a figure that could not
// be measured says why in its row.
func Run(ctx context.Context, cfg Config) (*Results, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if cfg.Dir == "" {
		dir, err := os.MkdirTemp("", "jetway-bench-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(dir)
		cfg.Dir = dir
	}
	if cfg.Profiles != "" {
		if err := os.MkdirAll(cfg.Profiles, 0o755); err != nil {
			return nil, err
		}
	}
	res := &Results{Started: time.Now().UTC(), CPUs: runtime.NumCPU(), Scale: cfg.Scale}
	add := func(r Result) {
		fmt.Fprintf(cfg.Progress, "bench: %s done\n", r.ID)
		res.Figures = append(res.Figures, r)
	}
	if cfg.wants("P1") {
		add(measureGateway(ctx, cfg))
	}
	var p7 *Result
	if cfg.wants("P2") || cfg.wants("P7") {
		p2, seven := measureReady(ctx, cfg)
		if cfg.wants("P2") {
			add(p2)
		}
		p7 = &seven
	}
	if cfg.wants("P4") {
		add(measureThroughput(ctx, cfg))
	}
	if cfg.wants("P5") {
		heap, rss := measureMemory(ctx, cfg)
		add(heap)
		add(rss)
	}
	if cfg.wants("P6") {
		add(measureIdleCost(ctx, cfg))
	}
	if p7 != nil && cfg.wants("P7") {
		add(*p7)
	}
	if cfg.wants("P8") || cfg.wants("P8g") {
		kill, graceful := measureFailover(ctx, cfg)
		if cfg.wants("P8") {
			add(kill)
		}
		if cfg.wants("P8g") {
			add(graceful)
		}
	}
	if cfg.wants("P9") {
		add(measureBillingRead(ctx, cfg))
	}
	if cfg.wants("P10") {
		add(measureReadyWithVolumes(ctx, cfg))
	}
	res.Elapsed = time.Since(res.Started).Round(time.Second).String()
	return res, ctx.Err()
}
