package machines

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/superfly/fly-go/flaps"

	"github.com/jetway-dev/jetway/internal/dev/flysim/internal/flysimtest"
)

// The bucket arithmetic, on a clock the test controls.
func TestBucket(t *testing.T) {
	t0 := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name     string
		lim      limit
		takes    int           // immediate takes that must succeed
		after    time.Duration // then, this much later...
		wantWait time.Duration // ...the next take must wait this long (0: succeeds)
	}{
		{"default burst", defaultLimit, 3, 0, time.Second},
		{"default half refilled", defaultLimit, 3, 500 * time.Millisecond, 500 * time.Millisecond},
		{"default refilled", defaultLimit, 3, time.Second, 0},
		{"get machine burst", getMachineLimit, 10, 0, 200 * time.Millisecond},
		{"app deletes", appDeleteLimit, 3, 0, 600 * time.Millisecond},
		{"app deletes refilled", appDeleteLimit, 3, 600 * time.Millisecond, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := &bucket{tokens: tc.lim.burst, last: t0}
			for i := range tc.takes {
				if _, ok := b.take(t0, tc.lim); !ok {
					t.Fatalf("take %d refused within the burst", i+1)
				}
			}
			wait, ok := b.take(t0.Add(tc.after), tc.lim)
			if ok != (tc.wantWait == 0) || (wait-tc.wantWait).Abs() > time.Millisecond {
				t.Fatalf("take after %s = (%s, %v), want wait %s", tc.after, wait, ok, tc.wantWait)
			}
		})
	}
}

func TestRetryAfterRoundsUp(t *testing.T) {
	for wait, want := range map[time.Duration]string{
		time.Nanosecond: "1", 200 * time.Millisecond: "1", time.Second: "1",
		1001 * time.Millisecond: "2", 36 * time.Second: "36",
	} {
		if got := rateLimitedReply(wait).Header.Get("Retry-After"); got != want {
			t.Errorf("Retry-After for %s = %s, want %s", wait, got, want)
		}
	}
}

// wantRateLimited checks that err is Fly's 429 and that the response said
// when to come back.
func wantRateLimited(t *testing.T, err error, log *flysimtest.ResponseLog) {
	t.Helper()
	wantErr(t, err, http.StatusTooManyRequests, "")
	var fe *flaps.FlapsError
	if !errors.As(err, &fe) || string(fe.ResponseBody) != `{"error":"rate limit exceeded"}` {
		t.Fatalf("429 body = %q", fe.ResponseBody)
	}
	if ra := log.Last().Header.Get("Retry-After"); ra != "1" {
		t.Fatalf("Retry-After = %q, want 1", ra)
	}
}

func TestRateLimitPerActionAndMachine(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	e.createApp("app")
	a := e.launch("app", launchInput("ams", nil))
	b := e.launch("app", launchInput("ams", nil))
	c, log := e.impatientClient()

	// The burst, then a 429 that says when to come back.
	for i := range 3 {
		if _, err := c.GetMetadata(e.ctx, "app", a.ID); err != nil {
			t.Fatalf("call %d within the burst: %v", i+1, err)
		}
	}
	before := e.sim.Stats()
	_, err := c.GetMetadata(e.ctx, "app", a.ID)
	wantRateLimited(t, err, log)
	after := e.sim.Stats()
	if after.RateLimited != before.RateLimited+1 || after.Requests["metadata_get"] != before.Requests["metadata_get"]+1 {
		t.Fatalf("429 not counted: before %+v, after %+v", before, after)
	}

	// Other machines and other actions have buckets of their own.
	if _, err := c.GetMetadata(e.ctx, "app", b.ID); err != nil {
		t.Fatalf("another machine was limited too: %v", err)
	}
	_, err = c.FindLease(e.ctx, "app", a.ID)
	wantErr(t, err, http.StatusNotFound, "lease not found")

	// Honouring Retry-After is enough.
	time.Sleep(time.Second)
	if _, err := c.GetMetadata(e.ctx, "app", a.ID); err != nil {
		t.Fatalf("after Retry-After: %v", err)
	}
}

// Get Machine may go five times as fast, with a burst of ten.
func TestRateLimitGetMachine(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	e.createApp("app")
	m := e.launch("app", launchInput("ams", nil))
	c, log := e.impatientClient()

	// Count what gets through before the first 429, allowing for tokens
	// that trickle in while the calls run.
	burst := func(call func() error, burst int, perSecond float64) {
		t.Helper()
		start := time.Now()
		for ok := 0; ok <= 2*burst; ok++ {
			if err := call(); err != nil {
				wantRateLimited(t, err, log)
				trickle := int(time.Since(start).Seconds()*perSecond) + 1
				if ok < burst || ok > burst+trickle {
					t.Fatalf("%d calls got through, want %d (+%d refilled)", ok, burst, trickle)
				}
				return
			}
		}
		t.Fatalf("no 429 after %d calls", 2*burst+1)
	}
	burst(func() error { _, err := c.Get(e.ctx, "app", m.ID); return err }, 10, 5)
	burst(func() error { _, err := c.List(e.ctx, "app", ""); return err }, 3, 1)
}

// App deletions are limited per organization, not per app.
func TestRateLimitAppDeletes(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	names := []string{"del-a", "del-b", "del-c", "del-d"}
	for _, n := range names {
		e.createApp(n) // the patient client waits out app_create's limit
	}
	c, log := e.impatientClient()
	for _, n := range names[:3] {
		if err := c.DeleteApp(e.ctx, n); err != nil {
			t.Fatalf("DeleteApp(%s): %v", n, err)
		}
	}
	wantRateLimited(t, c.DeleteApp(e.ctx, names[3]), log)
	if apps := e.sim.Apps(); len(apps) != 1 || apps[0].Name != names[3] {
		t.Fatalf("apps left: %+v", apps)
	}
}
