package chaos

import (
	"errors"
	"io"
	"time"

	"github.com/jetway-dev/jetway/internal/dev/flysim"
)

// Config is one chaos run.
type Config struct {
	// Assets is the folder with kube-apiserver and etcd (KUBEBUILDER_ASSETS).
	Assets string
	// JetwayBin is the jetway binary whose `manager` subcommand is run,
	// killed and restarted.
	JetwayBin string
	// Dir holds etcd data, the kubeconfig, the nonce store and the manager
	// log. Empty means a temporary folder, removed afterwards unless Keep.
	Dir  string
	Keep bool

	// Extensions is how many extensions the driver provisions.
	Extensions int
	// Restarts is how many times the manager is SIGKILLed and restarted.
	Restarts int
	// Seed makes the driver's and the killer's choices, and flysim's faults,
	// reproducible (the interleaving with real time is not).
	Seed int64

	// Faults are flysim's faults while the chaos lasts; nil means
	// DefaultFaults(Seed). They are turned off for the convergence check.
	Faults *flysim.Faults
	// Wedges is how many running replica machines are wedged (stuck in
	// "starting", see flysim.WedgeMachine) during the chaos; Jetway must
	// replace each. Zero means one per 50 crash points, at least one;
	// negative, none.
	Wedges int
	// BootTime is how long a simulated machine takes to start.
	BootTime time.Duration

	// MinUptime and MaxUptime bound how long the manager runs before the
	// next SIGKILL; each interval is uniform between them.
	MinUptime, MaxUptime time.Duration
	// UpdateFraction of extensions get one or two updates; DeleteFraction
	// are deleted again. Zero means the default (0.4, 0.3); negative, none.
	UpdateFraction, DeleteFraction float64
	// Concurrency bounds the driver's extensions in flight.
	Concurrency int
	// ConvergeTimeout bounds the wait for the invariants once faults are off.
	ConvergeTimeout time.Duration
	// CPUBurners is how many busy processes run beside the whole run (see
	// cpuBurners): the invariants must hold on a busy machine too.
	CPUBurners int
	// ManagerGOMAXPROCS, when positive, caps the manager's GOMAXPROCS, so
	// the manager is slow against the API server and flysim.
	ManagerGOMAXPROCS int
	// Progress receives one line per phase and periodic figures; nil is quiet.
	Progress io.Writer
}

// DefaultFaults are Fly's failure modes at rates high enough that every
// run meets each of them many times, scaled down in time (a hang lasts
// seconds, not Fly's minutes) so runs stay short.
func DefaultFaults(seed int64) flysim.Faults {
	return flysim.Faults{
		Seed:              seed,
		LatencyP50:        20 * time.Millisecond,
		LatencyP95:        100 * time.Millisecond,
		ServerErrorRate:   0.05,
		HangRate:          0.01,
		HangFor:           3 * time.Second,
		LostResponseRate:  0.05,
		CapacityErrorRate: 0.05,
		CrashRate:         0.02,
		// A hung create whose caller was SIGKILLed lands anyway, when the
		// hang would have ended: after the successor may have torn the
		// extension down. Only the orphan sweeper can clean that up.
		AbandonedActRate: 1,
	}
}

// withDefaults fills what was left zero.
func (c Config) withDefaults() (Config, error) {
	if c.Assets == "" {
		return c, errors.New("chaos: no control-plane binaries: set Assets (KUBEBUILDER_ASSETS); `make envtest` builds them")
	}
	if c.JetwayBin == "" {
		return c, errors.New("chaos: JetwayBin (the jetway binary to run as the manager) is required")
	}
	if c.Extensions <= 0 {
		c.Extensions = 50
	}
	if c.Restarts < 0 {
		c.Restarts = 0
	}
	switch {
	case c.Wedges == 0:
		c.Wedges = max(1, c.Restarts/50)
	case c.Wedges < 0:
		c.Wedges = 0
	}
	if c.Faults == nil {
		f := DefaultFaults(c.Seed)
		c.Faults = &f
	}
	if c.BootTime <= 0 {
		c.BootTime = 300 * time.Millisecond
	}
	if c.MinUptime <= 0 {
		c.MinUptime = 300 * time.Millisecond
	}
	if c.MaxUptime < c.MinUptime {
		c.MaxUptime = max(c.MinUptime, 3*time.Second)
	}
	c.UpdateFraction = fraction(c.UpdateFraction, 0.4)
	c.DeleteFraction = fraction(c.DeleteFraction, 0.3)
	if c.Concurrency <= 0 {
		c.Concurrency = 24
	}
	if c.ConvergeTimeout <= 0 {
		c.ConvergeTimeout = 5 * time.Minute
	}
	if c.Progress == nil {
		c.Progress = io.Discard
	}
	return c, nil
}

func fraction(v, def float64) float64 {
	switch {
	case v == 0:
		return def
	case v < 0:
		return 0
	}
	return v
}

// chaosWindow is roughly how long the crash loop lasts: the driver spreads
// its work over most of it, so that crash points land while Fly is
// calling, not after.
func (c Config) chaosWindow() time.Duration {
	return time.Duration(c.Restarts) * (c.MinUptime + c.MaxUptime) / 2
}
