package machines

import (
	"time"

	fly "github.com/superfly/fly-go"
)

// Crashes. A machine that reached started can still die on its own: the
// image's process exits, or the kernel kills it for memory. Controllers
// must notice from the machine's state and events, not from any call they
// made, so a crash is never the answer to a request.

// crashReasons are the exits a crash reports, in the shape of flyd's exit
// events.
var crashReasons = []fly.MachineExitEvent{
	{ExitCode: 137, Signal: 9, OOMKilled: true}, // out of memory
	{ExitCode: 1},               // the process failed
	{ExitCode: 139, Signal: 11}, // segmentation fault
}

// maybeCrashLocked is called each time m reaches started in operation gen.
// With probability CrashRate it schedules the crash; anything the user does
// to the machine first (stop, update, destroy) starts a new operation and
// so calls it off.
func (s *Server) maybeCrashLocked(m *machine, gen uint64) {
	f := &s.faults
	roll, when, why := f.crash.Float64(), f.crash.Float64(), f.crash.IntN(len(crashReasons))
	if roll >= f.cfg.CrashRate {
		return
	}
	after := time.Duration((0.5 + 2.5*when) * float64(s.bootTime()))
	s.stepLocked(m, gen, after, func() {
		// Turning crashes off calls off the pending ones too, so that a
		// caller who switched faults off sees a quiet system from then on.
		if m.m.State != stateStarted || s.faults.cfg.CrashRate == 0 {
			return
		}
		s.injected[faultCrash]++
		exit := crashReasons[why]
		exit.ExitedAt = s.now()
		s.addEventLocked(m, "exit", stateFailed, "flyd")
		m.events[0].Request = &fly.MachineRequest{ExitEvent: &exit}
		s.setStateLocked(m, stateFailed)
	})
}
