package machines

import (
	"time"

	fly "github.com/superfly/fly-go"
)

// Change is one machine state change, as Options.OnChange is told about
// it; flysim turns each into the CloudEvent Fly sends a provider.
type Change struct {
	App       string
	MachineID string
	State     string // the state the machine is in now
	// Cause is the machine event that recorded the change, as the
	// machine's /events list shows it: its type, its source ("user",
	// "flyd", "fly-proxy") and, for a crash, the exit in
	// Request.ExitEvent. It is a copy.
	Cause fly.MachineEvent
	At    time.Time // by Options.Now
}

// changedLocked is called whenever m changes state (and once when it is
// created): it tells Options.OnChange and arms autostop.
func (s *Server) changedLocked(m *machine) {
	if s.opts.OnChange != nil {
		s.opts.OnChange(Change{App: m.app.name, MachineID: m.m.ID, State: m.m.State, Cause: causeLocked(m), At: s.now()})
	}
	s.armAutostopLocked(m)
}

// causeLocked is the event that recorded m's current state.
func causeLocked(m *machine) fly.MachineEvent {
	if len(m.events) == 0 || m.events[0].Status != m.m.State {
		// Only "starting" is entered without an event of its own: flyd
		// records the boot once it is done.
		return fly.MachineEvent{Type: "start", Status: m.m.State, Source: "flyd"}
	}
	ev := m.events[0].MachineEvent
	if ev.Request != nil {
		req := *ev.Request
		if req.ExitEvent != nil {
			exit := *req.ExitEvent
			req.ExitEvent = &exit
		}
		ev.Request = &req
	}
	return ev
}
