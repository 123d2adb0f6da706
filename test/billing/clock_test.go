package billing

import (
	"fmt"
	"sync"
	"time"
)

// jumpClock is real time plus an offset that only grows. Fly's stand-in
// stamps its machine events and state log by it, and Jetway's meter, its
// billing controller and its billing API read it (billing.Settings.Clock):
// so a test can move everyone to just before midnight, or across the
// hours a machine runs, in an instant. Timers (boots, resyncs, autostop)
// still run on real time; only what billing reads jumps. Signing is left
// on real time, as Fly's and the gateway's clocks agree in production.
type jumpClock struct {
	mu     sync.Mutex
	offset time.Duration
}

// Now is the shifted time.
func (c *jumpClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset).UTC()
}

// JumpTo moves the clock forward to t. Going back would let Fly stamp an
// event before one it already showed, which Fly never does.
func (c *jumpClock) JumpTo(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	forward := t.Sub(time.Now().Add(c.offset))
	if forward < 0 {
		panic(fmt.Sprintf("jumpClock: %s is %s in the past", t.Format(time.RFC3339Nano), -forward))
	}
	c.offset += forward
}

// Advance moves the clock forward by d.
func (c *jumpClock) Advance(d time.Duration) { c.JumpTo(c.Now().Add(d)) }
