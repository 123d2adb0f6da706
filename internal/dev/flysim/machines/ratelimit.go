package machines

import (
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jetway-dev/jetway/internal/dev/flysim/internal/respond"
)

// Rate limits, always on because Fly's always are (research/fly-protocol.md
// §7.7): every action is limited per machine or app, 1 request/s with bursts
// of 3; Get Machine 5/s with bursts of 10; app deletions 100/min per
// organization. There is deliberately no option to turn them off: a
// controller that only works without them does not work on Fly.

type limit struct {
	perSecond float64
	burst     float64
}

var (
	defaultLimit    = limit{perSecond: 1, burst: 3}
	getMachineLimit = limit{perSecond: 5, burst: 10}
	// Fly documents the rate, not the burst. Three is the burst of every
	// other action, and allowing less than Fly might is the safe side.
	appDeleteLimit = limit{perSecond: 100.0 / 60.0, burst: 3}
)

// orgScoped actions are limited per organization: they name no app that
// exists yet (create, list), or Fly says so (deletions).
var orgScoped = map[string]bool{"app_create": true, "app_list": true, "app_delete": true}

// Volume actions get the default: Fly documents no other limit for them,
// and Get Machine's higher one is not assumed to cover Get Volume.
func limitFor(action string) limit {
	switch action {
	case "machine_get":
		return getMachineLimit
	case "app_delete":
		return appDeleteLimit
	}
	return defaultLimit
}

// scopeOf is what a request's bucket is keyed by besides the action: the
// machine id for machine routes, the volume id for volume routes (Fly
// limits "per identifier"), the app name for app routes, otherwise the
// organization (the token only ever sees one).
func (s *Server) scopeOf(action string, r *http.Request) string {
	if orgScoped[action] {
		return "org:" + s.opts.OrgSlug
	}
	if id := r.PathValue("id"); id != "" {
		return "machine:" + id
	}
	if id := r.PathValue("volume"); id != "" {
		return "volume:" + id
	}
	if app := r.PathValue("app"); app != "" {
		return "app:" + app
	}
	return "org:" + s.opts.OrgSlug
}

// bucket is a token bucket. Tokens are refilled lazily on each take, so an
// idle bucket costs nothing.
type bucket struct {
	tokens float64
	last   time.Time
}

// take spends a token if one is free; otherwise it reports how long until
// one will be.
func (b *bucket) take(now time.Time, l limit) (time.Duration, bool) {
	if elapsed := now.Sub(b.last).Seconds(); elapsed > 0 {
		b.tokens = math.Min(l.burst, b.tokens+elapsed*l.perSecond)
	}
	b.last = now
	if b.tokens >= 1 {
		b.tokens--
		return 0, true
	}
	return time.Duration((1 - b.tokens) / l.perSecond * float64(time.Second)), false
}

// limiter holds one bucket per (action, scope). It has its own lock so the
// check never waits behind a handler holding s.mu.
type limiter struct {
	mu      sync.Mutex
	buckets map[string]*bucket
	takes   int
}

func newLimiter() *limiter { return &limiter{buckets: map[string]*bucket{}} }

// take answers whether action on scope may run now, and if not, how long
// the caller should wait.
func (l *limiter) take(action, scope string, now time.Time) (time.Duration, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.takes++
	if l.takes%1024 == 0 {
		l.pruneLocked(now)
	}
	lim := limitFor(action)
	key := action + "\x00" + scope
	b := l.buckets[key]
	if b == nil {
		b = &bucket{tokens: lim.burst, last: now}
		l.buckets[key] = b
	}
	return b.take(now, lim)
}

// pruneLocked forgets buckets that have refilled: a fresh bucket is the same
// thing, and the map would otherwise grow with every machine ever touched.
func (l *limiter) pruneLocked(now time.Time) {
	for key, b := range l.buckets {
		action, _, _ := strings.Cut(key, "\x00")
		lim := limitFor(action)
		if b.tokens+now.Sub(b.last).Seconds()*lim.perSecond >= lim.burst {
			delete(l.buckets, key)
		}
	}
}

// rateLimitedReply is Fly's 429. Retry-After is whole seconds, rounded up so
// a client that honours it is never early.
func rateLimitedReply(wait time.Duration) respond.Reply {
	secs := int(math.Ceil(wait.Seconds()))
	if secs < 1 {
		secs = 1
	}
	rp := respond.Err(http.StatusTooManyRequests, "rate limit exceeded")
	rp.Header = http.Header{"Retry-After": []string{strconv.Itoa(secs)}}
	return rp
}
