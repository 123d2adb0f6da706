package chaos

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"
)

// settle is how long a clean result must stay clean: longer than one
// resync (5 s), so a controller that undoes its own work on the next pass,
// or a Fly call left hanging by a killed manager that lands late, shows up.
const settle = 7 * time.Second

// converge polls both sides until every invariant holds, Fly's view
// included, and still holds after settle; or until timeout. It returns the
// last findings and how long it took to the first clean result.
func converge(ctx context.Context, s *Stack, model []*extension, call *caller, timeout time.Duration, progress io.Writer) (findings, time.Duration, bool) {
	start := time.Now()
	deadline := start.Add(timeout)
	lastReport := start
	var cleanAt time.Time
	for {
		f := check(ctx, s, model, call)
		switch {
		case f.total() > 0:
			cleanAt = time.Time{}
		case cleanAt.IsZero():
			cleanAt = time.Now()
		case time.Since(cleanAt) >= settle:
			return f, cleanAt.Sub(start), true
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			if !cleanAt.IsZero() { // clean at the end, if not yet for all of settle
				return f, cleanAt.Sub(start), true
			}
			return f, time.Since(start), false
		}
		if time.Since(lastReport) >= 15*time.Second {
			lastReport = time.Now()
			fmt.Fprintf(progress, "chaos: converging for %s: %s\n", time.Since(start).Round(time.Second), summary(f))
		}
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}

// check runs the state invariants and, once those hold, asks the gateway;
// the volume invariants always, without holding back the gateway's check.
func check(ctx context.Context, s *Stack, model []*extension, call *caller) findings {
	o, err := observe(ctx, s.K8s, s.Sim)
	if err != nil {
		return findings{"observation failed": {err.Error()}}
	}
	f := checkState(model, o)
	if f.total() == 0 {
		f = checkFlyView(ctx, call, model)
	}
	for inv, vs := range checkVolumeState(model, o) {
		f[inv] = append(f[inv], vs...)
	}
	return f
}

func summary(f findings) string {
	if f.total() == 0 {
		return "clean"
	}
	var parts []string
	for _, inv := range sortedKeys(f) {
		parts = append(parts, fmt.Sprintf("%s=%d", inv, len(f[inv])))
	}
	first := f[sortedKeys(f)[0]][0] // say what is stuck while still waiting
	return strings.Join(parts, ", ") + "; e.g. " + first
}
