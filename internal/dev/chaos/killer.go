package chaos

import (
	"context"
	"fmt"
	"github.com/jetway-dev/jetway/internal/dev/devstack"
	"math/rand/v2"
	"sync/atomic"
	"time"
)

// killer SIGKILLs the manager at random points and starts it again at
// once, Restarts times. Points are random in time, not in code: a kill
// lands during startup, cache sync, a Fly call, a status write or a
// gateway request, whatever is running then.
type killer struct {
	proc                 *devstack.ManagerProcess
	restarts             int
	minUptime, maxUptime time.Duration
	rng                  *rand.Rand

	kills atomic.Int64 // crash points delivered
}

// maxSelfExits stops the loop when the manager keeps dying by itself (a
// bad flag, a crash on startup): restarting it forever would hide that.
const maxSelfExits = 10

func (k *killer) run(ctx context.Context) error {
	selfExits := 0
	for k.kills.Load() < int64(k.restarts) {
		up := k.minUptime + time.Duration(k.rng.Int64N(int64(k.maxUptime-k.minUptime)+1))
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-k.proc.Exited():
			// It died on its own: recorded as unexpected; bring it back.
			if selfExits++; selfExits > maxSelfExits {
				return fmt.Errorf("the manager exited on its own %d times; see %s", selfExits, k.proc.LogPath)
			}
		case <-time.After(up):
			if err := k.proc.Kill(); err != nil {
				return err
			}
			k.kills.Add(1)
		}
		// A short, random outage: Fly's calls meet a refused connection,
		// as they would while a pod is rescheduled.
		time.Sleep(time.Duration(k.rng.Int64N(int64(200 * time.Millisecond))))
		if err := k.proc.Start(); err != nil {
			return err
		}
	}
	return nil
}
