package bench

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// Config is one benchmark run.
type Config struct {
	// Assets holds kube-apiserver and etcd; ManagerBin is the product
	// binary (bin/jetway) run as the manager.
	Assets     string
	ManagerBin string
	// Dir is scratch space for the stacks; empty makes a temporary one.
	Dir string
	// Only runs just these figures (e.g. "P1", "P6"); empty runs all.
	Only []string
	// Scale multiplies every size (extension counts, load durations):
	// 0.1 for a quick look, a tiny value for the smoke test. Default 1.
	Scale float64
	// Progress receives a line per phase; nil is quiet.
	Progress io.Writer
	// Profiles, when set, is a folder that receives CPU profiles of the
	// manager during P1's load (p1-cpu.pprof) and P9's reads
	// (p9-cpu.pprof), and heap profiles during P5 (p5-heap-N.pprof): what
	// explains a figure.
	Profiles string

	// FlyLatency is flysim's fixed delay on every Machines API request:
	// the unit of P2's floor. BootTime is how long a machine takes to
	// start.
	FlyLatency time.Duration
	BootTime   time.Duration

	// P1: gateway traffic at P1Rate for P1Duration.
	P1Rate     int
	P1Duration time.Duration
	// P2 and P7: P2Extensions provisioned at P2Rate per second, below
	// Fly's one app creation per second per organization, so each
	// extension's time to Ready is its own and not a queue's.
	P2Extensions int
	P2Rate       float64
	// P4: P4Extensions provisioned at once.
	P4Extensions int
	// P5: how long each memory reading samples the manager.
	P5Sample time.Duration
	// P6: P6Extensions left idle for P6Resyncs resync periods of P6Resync.
	P6Extensions int
	P6Resyncs    int
	P6Resync     time.Duration
	// P8: how many times the leader is SIGKILLed.
	P8Kills int
	// P9: an organization of P9Extensions extensions whose 31 days are
	// read P9Requests times.
	P9Extensions int
	P9Requests   int
	// P10: P10Extensions provisioned at P2Rate on a plan that gives each
	// machine a volume.
	P10Extensions int
}

// figureIDs are the figures Run knows, in table order. P3 is reserved for
// warm pools.
var figureIDs = []string{"P1", "P2", "P4", "P5", "P6", "P7", "P8", "P8g", "P9", "P10"}

func (c Config) withDefaults() (Config, error) {
	if c.Assets == "" || c.ManagerBin == "" {
		return c, errors.New("bench: the control plane's assets and the manager binary are required")
	}
	for _, id := range c.Only {
		if !slices.ContainsFunc(figureIDs, func(k string) bool { return strings.EqualFold(k, id) }) {
			return c, fmt.Errorf("bench: unknown figure %q (known: %s)", id, strings.Join(figureIDs, ", "))
		}
	}
	if c.Scale <= 0 {
		c.Scale = 1
	}
	if c.Progress == nil {
		c.Progress = io.Discard
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	defInt := func(n *int, v int) {
		if *n <= 0 {
			*n = v
		}
	}
	def(&c.FlyLatency, 20*time.Millisecond)
	def(&c.BootTime, time.Second)
	defInt(&c.P1Rate, 200)
	def(&c.P1Duration, 20*time.Second)
	defInt(&c.P2Extensions, 100)
	if c.P2Rate <= 0 {
		c.P2Rate = 0.8
	}
	defInt(&c.P4Extensions, 30)
	def(&c.P5Sample, 10*time.Second)
	defInt(&c.P6Extensions, 20)
	defInt(&c.P6Resyncs, 3)
	def(&c.P6Resync, 5*time.Second)
	defInt(&c.P8Kills, 10)
	defInt(&c.P9Extensions, 1000)
	defInt(&c.P9Requests, 200)
	defInt(&c.P10Extensions, 20)
	return c, nil
}

// wants reports whether figure id is to be run.
func (c Config) wants(id string) bool {
	if len(c.Only) == 0 {
		return true
	}
	for _, o := range c.Only {
		if strings.EqualFold(o, id) {
			return true
		}
	}
	return false
}

// scaled is n times Scale, at least min.
func (c Config) scaled(n, min int) int {
	return max(min, int(float64(n)*c.Scale+0.5))
}

// scaledDuration is d times Scale, at least min.
func (c Config) scaledDuration(d, min time.Duration) time.Duration {
	return max(min, time.Duration(float64(d)*c.Scale))
}
