package chaos

import (
	"bytes"
	"os"
	"time"
)

// managerArgs are the flags the chaos run gives the manager, on top of
// what every devstack.ManagerProcess gets.
func managerArgs() []string {
	return []string{
		// One manager runs at a time here. With leader election on, every
		// restart would sit out the SIGKILLed predecessor's lease (a killed
		// process cannot release it) and most crash points would land on a
		// process that is only waiting, testing nothing.
		"--leader-elect=false",
		"--resync", "5s",
		"--poll-interval", "500ms",
		"--concurrency", "8",
		"--machine-wedged-after", wedgedAfter.String(),
		// Short enough that the sweeper acts within the convergence wait:
		// anything a deletion left on Fly must be gone by the final check.
		// The grace counts from durable times, so restarts do not reset it.
		"--sweep-interval", sweepInterval.String(),
		"--sweep-grace", sweepGrace.String(),
	}
}

// The chaos run's sweeper settings (see managerArgs).
const (
	sweepInterval = 10 * time.Second
	sweepGrace    = 20 * time.Second
)

// swept counts what the orphan sweeper removed over every run of the
// manager, from the lines it logs for each removal
// (controllers/sweepers/orphan_sweeper.go).
func swept(logPath string) (apps, machines int) {
	data, err := os.ReadFile(logPath)
	if err != nil {
		return 0, 0
	}
	return bytes.Count(data, []byte("Deleted orphaned Fly app")), bytes.Count(data, []byte("Destroyed orphaned Fly machine"))
}
