package chaos

import (
	"context"
	"math/rand/v2"
	"sync/atomic"
	"time"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
	"github.com/jetway-dev/jetway/internal/dev/flysim"
	"github.com/jetway-dev/jetway/internal/fly"
)

// wedgedAfter is the manager's --machine-wedged-after in chaos runs: far
// above flysim's boot time, so only a wedged machine is ever judged one,
// and short enough that replacements happen inside the chaos window.
const wedgedAfter = 3 * time.Second

// wedger wedges running replica machines at random moments of the chaos
// window, as a Fly host that stops answering would: the machine stays
// "starting" until something force-destroys it. Jetway must replace each
// (replicas hold no data of their own), so the convergence invariants
// (every live extension Ready with exactly its machines) cover it.
// Primaries are left alone: Jetway reports a wedged primary for an
// operator instead of destroying it, so it would never converge by itself.
type wedger struct {
	sim    *flysim.Server
	wedges int
	every  time.Duration
	rng    *rand.Rand

	wedged atomic.Int64 // replicas wedged
}

func (w *wedger) run(ctx context.Context) {
	for w.wedged.Load() < int64(w.wedges) {
		wait := w.every/2 + time.Duration(w.rng.Int64N(int64(w.every)+1))
		for {
			select {
			case <-ctx.Done():
				return
			case <-time.After(wait):
			}
			if w.wedgeOne() {
				w.wedged.Add(1)
				break
			}
			wait = 500 * time.Millisecond // no replica running yet: look again soon
		}
	}
}

// wedgeOne wedges one started replica picked at random, if there is one.
func (w *wedger) wedgeOne() bool {
	type candidate struct{ app, id string }
	var started []candidate
	for _, a := range w.sim.Apps() {
		for _, m := range w.sim.Machines(a.Name) {
			if m.State == "started" && m.Config != nil && m.Config.Metadata[fly.MetaRole] == jetwayv1.RoleReplica {
				started = append(started, candidate{a.Name, m.ID})
			}
		}
	}
	if len(started) == 0 {
		return false
	}
	c := started[w.rng.IntN(len(started))]
	return w.sim.WedgeMachine(c.app, c.id) == nil
}
