package bench

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"time"

	"github.com/jetway-dev/jetway/internal/billing"
)

// billingDays is the longest range the billing API answers, and what P9
// reads: 30 ended days and today.
const billingDays = 31

// measureBillingRead runs P9: Fly's billing pull, a signed GET /billing for
// an organization with P9Extensions extensions over 31 days, sent
// P9Requests times one after another. Its floor is as many signed GETs of
// the same route for an organization Jetway has never seen: signature,
// query and one cache read, then a 404, so the difference is what reading
// and answering the books costs. The books are seeded (billing_books.go):
// 30 published days and today's ledgers.
func measureBillingRead(ctx context.Context, cfg Config) Result {
	n := cfg.scaled(cfg.P9Extensions, 2)
	r := Result{ID: "P9", Figure: fmt.Sprintf("billing GET, %d extensions × %d days, p99", n, billingDays),
		Unit: "ms", Goal: "p99 ≤ 50 ms"}
	s, err := startStack(ctx, cfg, "p9", stackOptions{})
	if err != nil {
		r.Err = err.Error()
		return r
	}
	defer s.close()
	fmt.Fprintf(cfg.Progress, "bench: P9: writing %d ledgers and %d published billing days\n", n, billingDays-1)
	b, err := seedBooks(ctx, s, n, billingDays, time.Now())
	if err != nil {
		r.Err = err.Error()
		return r
	}
	query := map[string]any{"organization_id": b.orgID, "from": b.from, "to": b.to}
	unknown := map[string]any{"organization_id": "bench-never-seen", "from": b.to, "to": b.to}
	if err := waitFullStatement(ctx, s, b, query, 2*time.Minute); err != nil {
		r.Err = err.Error()
		return r
	}
	requests := cfg.scaled(cfg.P9Requests, 10)
	fmt.Fprintf(cfg.Progress, "bench: P9: %d signed GETs of an unknown organization (floor), then %d of the books\n", requests, requests)
	floor, _, err := timeGets(ctx, s, unknown, http.StatusNotFound, requests)
	if err != nil {
		r.Err = fmt.Sprintf("floor: %v", err)
		return r
	}
	lat, size, err := timeGets(ctx, s, query, http.StatusOK, requests)
	if err != nil {
		r.Err = err.Error()
		return r
	}
	// The answer is checked after the timing too: the cache must not have
	// lost anything meanwhile, and a run across midnight is a day's books
	// read on another day.
	if err := checkStatement(ctx, s, b, query); err != nil {
		r.Err = err.Error()
		return r
	}
	if billing.DateOf(time.Now()) != b.to {
		r.Err = "the run crossed UTC midnight, which moves the days it reads; run it again"
		return r
	}
	if cfg.Profiles != "" {
		if err := profileBillingRead(ctx, cfg, s, query); err != nil {
			fmt.Fprintf(cfg.Progress, "bench: P9: no CPU profile: %v\n", err)
		}
	}
	r.Value, r.Floor = percentile(lat, 99), percentile(floor, 99)
	r.Ratio = ratio(r.Value, r.Floor)
	r.Met = r.Value <= 50
	r.Detail = fmt.Sprintf("p50 %.1f ms p99 %.1f ms over %d GETs of %d days (%d published) with %d items, %d bytes each; floor (unknown organization, 404) p50 %.1f ms p99 %.1f ms; "+
		"the largest BillingDay, %d items, is %d bytes as JSON, %d bytes an item, so etcd's 1.5 MiB request limit holds about %d items a day",
		percentile(lat, 50), r.Value, len(lat), billingDays, b.published, b.items, size, percentile(floor, 50), r.Floor,
		b.dayItems, b.dayBytes, b.dayBytes/max(1, b.dayItems), (3<<19)/max(1, b.dayBytes/max(1, b.dayItems)))
	return r
}

// waitFullStatement waits until the gateway answers the whole of what was
// seeded: until then its cache is still filling, and an answer would be
// timed on part of the books.
func waitFullStatement(ctx context.Context, s *stack, b *books, query map[string]any, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		err := checkStatement(ctx, s, b, query)
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the gateway did not answer the seeded books within %s: %w", timeout, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// checkStatement asks for the books once and says how the answer falls
// short of what was seeded.
func checkStatement(ctx context.Context, s *stack, b *books, query map[string]any) error {
	resp, err := s.fly.Do(ctx, http.MethodGet, "/billing", query)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET /billing: HTTP %d: %s", resp.StatusCode, resp.Body)
	}
	var st billing.Statement
	if err := resp.JSON(&st); err != nil {
		return err
	}
	final, items := 0, 0
	for _, d := range st.Days {
		items += len(d.Items)
		if d.Final {
			final++
		}
	}
	if len(st.Days) != billingDays || final != b.published || items != b.items {
		return fmt.Errorf("GET /billing answered %d days, %d final, %d items; seeded %d, %d, %d",
			len(st.Days), final, items, billingDays, b.published, b.items)
	}
	return nil
}

// timeGets sends count signed GET /billing with query, one after another,
// each expected to answer want, and returns their latencies (the whole
// answer read) and the size of the last answer.
func timeGets(ctx context.Context, s *stack, query map[string]any, want, count int) ([]time.Duration, int, error) {
	out := make([]time.Duration, 0, count)
	size := 0
	for range count {
		start := time.Now()
		resp, err := s.fly.Do(ctx, http.MethodGet, "/billing", query)
		took := time.Since(start)
		if err != nil {
			return out, size, err
		}
		if resp.StatusCode != want {
			return out, size, fmt.Errorf("GET /billing: HTTP %d, want %d: %.200s", resp.StatusCode, want, resp.Body)
		}
		out = append(out, took)
		size = len(resp.Body)
	}
	return out, size, nil
}

// profileBillingRead takes a CPU profile of the manager (p9-cpu.pprof)
// while it answers the same GETs for ten seconds more, after the figure
// is taken so that the profiler does not slow what is timed.
func profileBillingRead(ctx context.Context, cfg Config, s *stack, query map[string]any) error {
	const seconds = 10
	profiled := make(chan error, 1)
	go func() {
		url := fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", s.pprofAddrs[0], seconds)
		profiled <- download(ctx, &http.Client{Timeout: 2 * time.Minute}, url, filepath.Join(cfg.Profiles, "p9-cpu.pprof"))
	}()
	end := time.Now().Add(seconds * time.Second)
	var errs []error
	for time.Now().Before(end) {
		if _, _, err := timeGets(ctx, s, query, http.StatusOK, 1); err != nil {
			errs = append(errs, err)
			break
		}
	}
	return errors.Join(append(errs, <-profiled)...)
}
