// Package loadgen drives a Jetway gateway with signed, mixed provisioning
// traffic at a fixed rate, as Fly would at a busy time, measures latency
// and answers, and then checks that every provisioning call the gateway
// accepted was really persisted.
package loadgen

import (
	"errors"
	"io"
	"time"
)

// Config is one load run.
type Config struct {
	// GatewayURL is the Fly-facing base, e.g. http://127.0.0.1:8080/flyio.
	GatewayURL string
	// Secret is the shared provisioning secret Fly signs with.
	Secret []byte
	// Rate is the target requests per second; Duration how long to send.
	Rate     int
	Duration time.Duration
	// Concurrency bounds requests in flight. When every slot is busy the
	// sender waits, so a slow gateway shows as an achieved rate below Rate
	// rather than as an unbounded pile of goroutines.
	Concurrency int
	// Mix weighs the kinds of request; zero means DefaultMix.
	Mix Mix
	// Seed makes the sequence of kinds and regions reproducible.
	Seed int64
	// Cleanup deletes, after verification, the extensions the run left.
	Cleanup bool
	// Timeout bounds one request.
	Timeout time.Duration
	// Progress receives a line per phase; nil is quiet.
	Progress io.Writer
}

// Mix weighs each kind of request. Weights are relative.
type Mix struct {
	Create, Repeat, Get, Update, Delete int
}

// DefaultMix is shaped like Fly's traffic to a provider: mostly status
// reads (flyctl and the dashboard poll GET), a steady trickle of new
// extensions, at-least-once repeats of provisioning calls, and fewer
// changes and deletions.
var DefaultMix = Mix{Create: 20, Repeat: 5, Get: 55, Update: 10, Delete: 10}

func (c Config) withDefaults() (Config, error) {
	if c.GatewayURL == "" || len(c.Secret) == 0 {
		return c, errors.New("loadgen: a gateway URL and the shared secret are required")
	}
	if c.Rate <= 0 {
		c.Rate = 200
	}
	if c.Duration <= 0 {
		c.Duration = 30 * time.Second
	}
	if c.Concurrency <= 0 {
		c.Concurrency = 128
	}
	if c.Mix == (Mix{}) {
		c.Mix = DefaultMix
	}
	if c.Timeout <= 0 {
		c.Timeout = 30 * time.Second
	}
	if c.Progress == nil {
		c.Progress = io.Discard
	}
	return c, nil
}
