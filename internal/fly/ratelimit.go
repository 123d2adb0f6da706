package fly

import (
	"context"
	"regexp"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Fly limits each action per app or machine: 1 request/s with bursts of 3,
// Get Machine 5/s with bursts of 10, app deletions 100/min
// (research/fly-protocol.md §7.7). Waiting here is cheaper than earning a
// 429 and backing off. The organization-wide buckets (app creation and
// deletion) are the ones a burst of new or deleted extensions runs at
// their limit for long; their burst here is one below Fly's, so Fly's
// bucket keeps a token in hand for requests that arrive closer together
// than they left (network jitter), which at Fly's exact burst earned a 429
// now and then in make bench's P4. Per-app buckets keep Fly's burst: a new
// extension's first passes use it.
const (
	defaultRate     = rate.Limit(1)
	defaultBurst    = 3
	getMachineRate  = rate.Limit(5)
	getMachineBurst = 10
	appCreateRate   = rate.Limit(1)
	appCreateBurst  = 3 - 1
	appDeleteRate   = rate.Limit(100.0 / 60.0)
	appDeleteBurst  = 3 - 1
)

// Routes with limits of their own, as actionOf names them.
const (
	routeGetMachine = "GET /v1/apps/:app/machines/:id"
	routeDeleteApp  = "DELETE /v1/apps/:app"
	routeCreateApp  = "POST /v1/apps"
)

// limits hands out one token bucket per (action, app or machine), the way
// Fly scopes them. It is applied to every request that goes out, fly-go's
// own retries of 502/503 included, so nothing slips past it.
type limits struct {
	mu      sync.Mutex
	buckets map[string]*rate.Limiter
	calls   int
}

func newLimits() *limits { return &limits{buckets: map[string]*rate.Limiter{}} }

// wait blocks until the action on scope may run, or ctx ends.
func (l *limits) wait(ctx context.Context, action, scope string) error {
	return l.bucket(action, scope).Wait(ctx)
}

func (l *limits) bucket(action, scope string) *rate.Limiter {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls++
	if l.calls%1024 == 0 {
		l.prune()
	}
	key := action + "\x00" + scope
	b, ok := l.buckets[key]
	if !ok {
		switch action {
		case routeGetMachine:
			b = rate.NewLimiter(getMachineRate, getMachineBurst)
		case routeDeleteApp:
			// App deletions are limited per organization, not per app.
			key = action
			if b, ok = l.buckets[key]; ok {
				return b
			}
			b = rate.NewLimiter(appDeleteRate, appDeleteBurst)
		case routeCreateApp:
			b = rate.NewLimiter(appCreateRate, appCreateBurst)
		default:
			b = rate.NewLimiter(defaultRate, defaultBurst)
		}
		l.buckets[key] = b
	}
	return b
}

// prune drops buckets that are full again: forgetting them changes nothing,
// and it keeps the map from growing with every machine ever touched.
func (l *limits) prune() {
	now := time.Now()
	for k, b := range l.buckets {
		if b.TokensAt(now) >= float64(b.Burst()) {
			delete(l.buckets, k)
		}
	}
}

var scopePattern = regexp.MustCompile(`^/v1/apps/([^/]+)(?:/machines/([^/]+))?`)

// scopeOf is what Fly counts a request against: the machine for machine
// routes, the app for app routes, the organization otherwise.
func scopeOf(path string) string {
	m := scopePattern.FindStringSubmatch(path)
	switch {
	case m == nil:
		return "org"
	case m[2] != "":
		return "machine/" + m[2]
	default:
		return "app/" + m[1]
	}
}
