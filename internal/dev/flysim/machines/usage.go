package machines

import (
	"time"
)

// The simulator's truth about usage, for tests of billing. A client meters
// a machine from the events Fly shows, and those are capped
// (Options.EventHistory): they can roll off before the client reads them.
// The state log behind these helpers is not: setStateLocked appends every
// state change, with its time by Options.Now, and the log is kept for
// destroyed machines and for machines of deleted apps. Like the other
// inspection helpers they are not requests and are never rate limited.

// MachineInfo names a machine for billing: where it lives and how big it
// is now.
type MachineInfo struct {
	App    string
	ID     string
	Region string
	// Size is fly-go's Guest.ToSize() of the machine's current config,
	// e.g. "shared-cpu-1x". An update can change it; the state log does
	// not record sizes.
	Size  string
	State string // current state; "destroyed" ones are listed too
}

// StateChange is one entry of a machine's state log.
type StateChange struct {
	At    time.Time // by Options.Now
	State string    // the state entered
}

// AllMachineIDs lists every machine ever created, destroyed ones and those
// of deleted apps included, in creation order. Machines and AllMachines,
// by contrast, leave destroyed machines out.
func (s *Server) AllMachineIDs() []MachineInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]MachineInfo, 0, len(s.created))
	for _, m := range s.created {
		info := MachineInfo{App: m.app.name, ID: m.m.ID, Region: m.m.Region, State: m.m.State}
		if m.m.Config != nil {
			info.Size = m.m.Config.Guest.ToSize()
		}
		out = append(out, info)
	}
	return out
}

// StateHistory is machineID's state log, oldest first, from its creation
// ("created") on. Unknown machine: nil.
func (s *Server) StateHistory(machineID string) []StateChange {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.machines[machineID]
	if m == nil {
		return nil
	}
	out := make([]StateChange, len(m.states))
	for i, c := range m.states {
		out[i] = StateChange{At: c.at, State: c.state}
	}
	return out
}

// RunningTime is how long machineID spent in state "started" within
// [from, to). A machine still started counts up to the earlier of to and
// Options.Now. Unknown machine, or from not before to: 0.
func (s *Server) RunningTime(machineID string, from, to time.Time) time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.machines[machineID]
	if m == nil {
		return 0
	}
	return runningTime(m.states, from, to, s.now())
}

// runningTime sums the "started" intervals of log clipped to [from,
// min(to, now)). An interval ends where the next entry begins; the last one
// is still going at now.
func runningTime(log []stateChange, from, to, now time.Time) time.Duration {
	if now.Before(to) {
		to = now
	}
	var total time.Duration
	for i, c := range log {
		if c.state != stateStarted {
			continue
		}
		start, end := c.at, now
		if i+1 < len(log) {
			end = log[i+1].at
		}
		if start.Before(from) {
			start = from
		}
		if end.After(to) {
			end = to
		}
		if end.After(start) {
			total += end.Sub(start)
		}
	}
	return total
}
