package machines

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/superfly/fly-go/flaps"
)

func TestFaultsValidate(t *testing.T) {
	tests := []struct {
		name string
		f    Faults
		bad  string // substring of the error; "" valid
	}{
		{"zero", Faults{}, ""},
		{"all on", Faults{LatencyP50: time.Millisecond, LatencyP95: time.Millisecond, ServerErrorRate: 1, HangRate: 1,
			LostResponseRate: 1, CapacityErrorRate: 1, CrashRate: 1}, ""},
		{"rate above 1", Faults{HangRate: 1.5}, "hang_rate"},
		{"negative rate", Faults{CrashRate: -0.1}, "crash_rate"},
		{"NaN rate", Faults{ServerErrorRate: math.NaN()}, "server_error_rate"},
		{"p50 alone", Faults{LatencyP50: time.Millisecond}, "both"},
		{"p95 below p50", Faults{LatencyP50: time.Second, LatencyP95: time.Millisecond}, "below"},
		{"negative hang", Faults{HangFor: -time.Second}, "hang_for"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.f.Validate()
			if (err == nil) != (tc.bad == "") || (err != nil && !strings.Contains(err.Error(), tc.bad)) {
				t.Fatalf("Validate() = %v, want %q", err, tc.bad)
			}
		})
	}
}

func TestFaultsJSON(t *testing.T) {
	f := Faults{Seed: 42, LatencyP50: 200 * time.Millisecond, LatencyP95: 750 * time.Millisecond,
		ServerErrorRate: 0.1, HangRate: 0.01, HangFor: 65 * time.Second, LostResponseRate: 0.02,
		CapacityErrorRate: 0.05, CrashRate: 0.001}
	raw, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"seed":42,"latency_p50":"200ms","latency_p95":"750ms","server_error_rate":0.1,"hang_rate":0.01,` +
		`"hang_for":"1m5s","lost_response_rate":0.02,"capacity_error_rate":0.05,"crash_rate":0.001}`
	if string(raw) != want {
		t.Fatalf("JSON = %s\nwant   %s", raw, want)
	}
	var back Faults
	if err := json.Unmarshal(raw, &back); err != nil || back != f {
		t.Fatalf("round trip = %+v, %v", back, err)
	}
	for _, bad := range []string{`{"hang_rate":"x"}`, `{"latency_p50":"fast"}`, `{"latency_p50":200}`, `{"hangrate":0.5}`} {
		if err := json.Unmarshal([]byte(bad), &back); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

// The same seed and the same requests give the same faults.
func TestFaultsDeterministic(t *testing.T) {
	t.Parallel()
	run := func(seed int64) string {
		e := newEnv(t, Options{Faults: Faults{Seed: seed, ServerErrorRate: 0.5}})
		var codes []string
		for i := range 24 {
			// A different app each time keeps every request under the rate
			// limit, and the 404 shows the request got past the faults.
			codes = append(codes, fmt.Sprint(rawStatus(t, e, "GET", fmt.Sprintf("/v1/apps/app-%d", i), "")))
		}
		return strings.Join(codes, ",")
	}
	a, b, c := run(11), run(11), run(12)
	if a != b {
		t.Fatalf("same seed, different faults:\n%s\n%s", a, b)
	}
	if a == c {
		t.Fatalf("different seeds, same faults: %s", a)
	}
	if !strings.Contains(a, "404") || !strings.Contains(a, "50") {
		t.Fatalf("rate 0.5 should give both answers: %s", a)
	}
}

func TestServerErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{Faults: Faults{Seed: 3, ServerErrorRate: 1}})
	before := e.sim.Requests()["app_create"]
	_, err := e.c.CreateApp(e.ctx, flaps.CreateAppRequest{Name: "broken", Org: testOrg})
	code := httpStatus(err)
	if code != http.StatusInternalServerError && code != http.StatusBadGateway && code != http.StatusServiceUnavailable {
		t.Fatalf("want 500, 502 or 503, got %v", err)
	}
	// fly-go retries 502 and 503 on its own, up to four tries in all, and
	// stops at a 500. Its retries count against the rate limit like any
	// request, so the fourth may have waited out a 429 first.
	st := e.sim.Stats()
	n := st.Requests["app_create"] - before - st.RateLimited
	if st.Injected["server_error"] != n || n < 1 || n > 4 || (code != http.StatusInternalServerError && n != 4) {
		t.Fatalf("%d app_create requests past the rate limit, %d server errors, last %d", n, st.Injected["server_error"], code)
	}
	if apps := e.sim.Apps(); len(apps) != 0 {
		t.Fatalf("a failed create made %+v", apps)
	}

	// Faults change at runtime.
	e.sim.SetFaults(Faults{})
	e.createApp("fixed")
	if got := e.sim.Faults(); got.Seed == 0 || got.HangFor != defaultHangFor || got.ServerErrorRate != 0 {
		t.Fatalf("Faults() = %+v, want a seed from the clock and the default hang", got)
	}
	defer func() {
		if recover() == nil {
			t.Fatal("SetFaults accepted a rate of 2")
		}
	}()
	e.sim.SetFaults(Faults{CrashRate: 2})
}

func TestLatency(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{Latency: 100 * time.Millisecond, Faults: Faults{LatencyP50: 50 * time.Millisecond, LatencyP95: 50 * time.Millisecond}})
	start := time.Now()
	if _, err := e.c.ListApps(e.ctx, flaps.ListAppsRequest{OrgSlug: testOrg}); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 150*time.Millisecond {
		t.Fatalf("request took %s, want the fixed 100ms plus the sampled 50ms", d)
	}
}

func TestLognormal(t *testing.T) {
	rng := newFaultState(Faults{Seed: 5}).latency
	p50, p95 := 200*time.Millisecond, 750*time.Millisecond
	const n = 20000
	var below50, below95 int
	for range n {
		d := lognormal(rng, p50, p95)
		if d <= p50 {
			below50++
		}
		if d <= p95 {
			below95++
		}
	}
	if f := float64(below50) / n; f < 0.48 || f > 0.52 {
		t.Errorf("%.3f of samples at or below the median", f)
	}
	if f := float64(below95) / n; f < 0.94 || f > 0.96 {
		t.Errorf("%.3f of samples at or below the 95th percentile", f)
	}
	if d := lognormal(rng, 0, 0); d != 0 {
		t.Errorf("no latency configured gave %s", d)
	}
	if d := lognormal(rng, time.Hour, 2*time.Hour); d != maxLatency {
		t.Errorf("huge latency not capped: %s", d)
	}
}

func TestSetTokenRevokesTheOldOne(t *testing.T) {
	e := newEnv(t, Options{})
	ctx := context.Background()
	if _, err := e.c.ListApps(ctx, flaps.ListAppsRequest{OrgSlug: testOrg}); err != nil {
		t.Fatalf("before rotation: %v", err)
	}
	e.sim.SetToken("a-new-token")
	_, err := e.c.ListApps(ctx, flaps.ListAppsRequest{OrgSlug: testOrg})
	var fe *flaps.FlapsError
	if !errors.As(err, &fe) || fe.ResponseStatusCode != 401 {
		t.Fatalf("old token after rotation: got %v, want 401", err)
	}
}
