package machines

import (
	"time"

	fly "github.com/superfly/fly-go"
)

// Machine states, from Fly's machine-states doc. Persistent states are the
// ones a machine rests in; the -ing states only last until a timer fires.
const (
	stateCreated    = "created"
	stateStarting   = "starting"
	stateStarted    = "started"
	stateStopping   = "stopping"
	stateStopped    = "stopped"
	stateSuspending = "suspending"
	stateSuspended  = "suspended"
	stateRestarting = "restarting"
	stateReplacing  = "replacing"
	stateUpdating   = "updating"
	stateDestroying = "destroying"
	stateDestroyed  = "destroyed"
	stateFailed     = "failed"
)

type machine struct {
	app *app
	m   fly.Machine // authoritative record; Events and LeaseNonce unused here

	// events is what Fly shows of the machine's history: the newest
	// Options.EventHistory events, newest first, as Fly returns them. Older
	// ones roll off (see addEventLocked). eventsAdded counts every event
	// ever recorded, rolled off or not.
	events      []event
	eventsAdded int
	// states is every state the machine has been in, oldest first, from
	// its creation on: the simulator's own truth about how long it ran
	// (see RunningTime). Unlike events it is never capped, and it outlives
	// the machine's destruction and its app's deletion.
	states   []stateChange
	cordoned bool
	lease    *lease
	versions []string // every instance id this machine has had, oldest first

	// gen invalidates scheduled transitions: every user-driven change bumps
	// it, and a timer only applies its step if gen is unchanged. This is how
	// a stop issued mid-boot wins over the pending "started".
	gen uint64
	// launching is set while a created machine's boot is scheduled, so that
	// /start can tell "created, about to boot" from "created with skip_launch".
	launching bool
	// wedged machines never finish a transition (see WedgeMachine).
	wedged bool

	// checks are what its health checks report (see checks.go); checkRuns
	// counts its starts, each of which begins a new run of them, and
	// tells a check step of an earlier run that it is stale.
	checks    []*check
	checkRuns uint64
}

// event is fly.MachineEvent plus the id Fly's /events endpoint includes.
type event struct {
	ID string `json:"id"`
	fly.MachineEvent
}

// stateChange is one entry of a machine's state log: the state it entered
// and when, by Options.Now.
type stateChange struct {
	at    time.Time
	state string
}

// addEventLocked records an event as the newest of m's history. Only the
// newest Options.EventHistory are kept, as Fly only lists a machine's
// recent events: the oldest rolls off in place, so a machine's events cost
// bounded memory however long it lives. Views copy them out under the lock
// (machineViewLocked, machineEvents, machineCopy) and never share m.events.
func (s *Server) addEventLocked(m *machine, typ, status, source string) {
	ev := event{ID: s.ulidLocked(), MachineEvent: fly.MachineEvent{
		Type:      typ,
		Status:    status,
		Source:    source,
		Timestamp: s.now().UnixMilli(), // Fly event timestamps are milliseconds
	}}
	if len(m.events) < s.opts.EventHistory {
		m.events = append(m.events, event{})
	}
	copy(m.events[1:], m.events) // shift right; the oldest falls off the end
	m.events[0] = ev
	m.eventsAdded++
	if m.eventsAdded == 1 { // a machine's first event is its creation
		s.changedLocked(m)
	}
}

// eventsLocked copies m's events, newest first, for a view.
func eventsLocked(m *machine) []event {
	return append([]event(nil), m.events...)
}

// setStateLocked records a state change in m's state log and wakes
// waiters. Every change into or out of "started" has recorded its event
// just before, at the same moment by Options.Now (see the transitions
// below); only "starting" is entered without one (see causeLocked).
func (s *Server) setStateLocked(m *machine, state string) {
	now := s.now()
	m.m.State = state
	m.m.UpdatedAt = now.Format(time.RFC3339)
	logStateLocked(m, now, state)
	if state == stateDestroyed {
		s.detachLocked(m) // a volume is bound to its machine until the machine is gone
	}
	s.checksFollowStateLocked(m)
	s.broadcastLocked()
	s.changedLocked(m) // Options.OnChange, autostop; see change.go
}

// logStateLocked appends to m's state log.
func logStateLocked(m *machine, at time.Time, state string) {
	m.states = append(m.states, stateChange{at: at, state: state})
}

// beginLocked starts a user-driven operation: pending transitions from an
// earlier operation are abandoned.
func (s *Server) beginLocked(m *machine) uint64 {
	m.gen++
	m.launching = false
	return m.gen
}

// stepLocked schedules fn for machine m after d, dropped if another
// operation has started in the meantime.
func (s *Server) stepLocked(m *machine, gen uint64, d time.Duration, fn func()) {
	s.afterLocked(d, func() {
		if m.gen == gen && !m.wedged && m.m.State != stateDestroyed {
			fn()
		}
	})
}

func (s *Server) bootTime() time.Duration  { return s.opts.BootTime }
func (s *Server) shortTime() time.Duration { return s.opts.BootTime / 2 }

// launchLocked boots a freshly created machine: created, then starting
// half-way through BootTime, then started.
func (s *Server) launchLocked(m *machine) {
	gen := s.beginLocked(m)
	m.launching = true
	s.stepLocked(m, gen, s.shortTime(), func() {
		m.launching = false
		// Both steps' timers can be overdue at once (a stalled process) and
		// then run in either order: never step back from started.
		if m.m.State == stateCreated {
			s.setStateLocked(m, stateStarting)
		}
	})
	s.stepLocked(m, gen, s.bootTime(), func() { s.startedLocked(m, gen) })
}

// startedLocked settles m in started. Every boot ends here, which makes it
// the place where a crash may be set up.
func (s *Server) startedLocked(m *machine, gen uint64) {
	s.addEventLocked(m, "start", stateStarted, "flyd")
	s.setStateLocked(m, stateStarted)
	s.maybeCrashLocked(m, gen)
}

// transition is a user-requested power change: the machine passes through
// a transient state and, after a while, settles in the final one.
type transition struct {
	event     string // event type recorded when the request is accepted
	via       string // transient state
	doneEvent string // event type recorded when it settles
	to        string // final state
}

var (
	startTransition   = transition{event: "start", via: stateStarting, doneEvent: "start", to: stateStarted}
	stopTransition    = transition{event: "stop", via: stateStopping, doneEvent: "exit", to: stateStopped}
	suspendTransition = transition{event: "suspend", via: stateSuspending, doneEvent: "suspend", to: stateSuspended}
	restartTransition = transition{event: "restart", via: stateRestarting, doneEvent: "start", to: stateStarted}
)

// transitionLocked moves m through t, settling after d.
func (s *Server) transitionLocked(m *machine, t transition, d time.Duration) {
	s.transitionByLocked(m, t, d, "user")
}

// transitionByLocked is transitionLocked on behalf of source: "user" for
// the API, "fly-proxy" for autostop and autostart (see autostop.go).
func (s *Server) transitionByLocked(m *machine, t transition, d time.Duration, source string) {
	gen := s.beginLocked(m)
	s.addEventLocked(m, t.event, t.via, source)
	s.setStateLocked(m, t.via)
	s.stepLocked(m, gen, d, func() {
		if t.to == stateStarted {
			s.startedLocked(m, gen)
			return
		}
		s.addEventLocked(m, t.doneEvent, t.to, "flyd")
		s.setStateLocked(m, t.to)
	})
}

// startLocked boots a resting machine. Resuming a suspended machine is
// faster than a cold start, as on Fly.
func (s *Server) startLocked(m *machine) {
	d := s.bootTime()
	if m.m.State == stateSuspended {
		d = s.shortTime()
	}
	s.transitionLocked(m, startTransition, d)
}

func (s *Server) stopLocked(m *machine) { s.transitionLocked(m, stopTransition, s.shortTime()) }

func (s *Server) suspendLocked(m *machine) { s.transitionLocked(m, suspendTransition, s.shortTime()) }

func (s *Server) restartLocked(m *machine) { s.transitionLocked(m, restartTransition, s.bootTime()) }

// updateLocked moves a machine onto its new version (already recorded by
// the caller). A running machine is replaced: it leaves "started" at once
// and comes back after BootTime, so a caller that does not wait sees it
// down. A resting machine is booted unless skipLaunch.
func (s *Server) updateLocked(m *machine, skipLaunch bool) {
	prev := m.m.State
	gen := s.beginLocked(m)
	switch {
	case skipLaunch && prev == stateCreated:
		s.addEventLocked(m, "update", stateCreated, "user")
		s.setStateLocked(m, stateCreated)
	case skipLaunch && prev == stateStarted:
		s.addEventLocked(m, "update", stateReplacing, "user")
		s.setStateLocked(m, stateReplacing)
		s.stepLocked(m, gen, s.shortTime(), func() {
			s.addEventLocked(m, "exit", stateStopped, "flyd")
			s.setStateLocked(m, stateStopped)
		})
	case skipLaunch:
		// A suspended snapshot belongs to the old version and is discarded.
		s.addEventLocked(m, "update", stateStopped, "user")
		s.setStateLocked(m, stateStopped)
	default:
		transient := stateUpdating
		if prev == stateStarted {
			transient = stateReplacing
		}
		s.addEventLocked(m, "update", transient, "user")
		s.setStateLocked(m, transient)
		s.stepLocked(m, gen, s.shortTime(), func() {
			if m.m.State == transient { // the started step may have run first (see launchLocked)
				s.setStateLocked(m, stateStarting)
			}
		})
		s.stepLocked(m, gen, s.bootTime(), func() { s.startedLocked(m, gen) })
	}
}

// destroyLocked is the API destroy: destroying now, destroyed shortly after.
// The lease goes with the machine.
func (s *Server) destroyLocked(m *machine) {
	gen := s.beginLocked(m)
	m.lease = nil
	m.wedged = false // a forced destroy is the way out of a wedge
	s.addEventLocked(m, "destroy", stateDestroying, "user")
	s.setStateLocked(m, stateDestroying)
	s.stepLocked(m, gen, s.shortTime(), func() {
		s.addEventLocked(m, "destroy", stateDestroyed, "flyd")
		s.setStateLocked(m, stateDestroyed)
	})
}

// destroyNowLocked skips "destroying": used for out-of-band destruction and
// app deletion, where nothing observes the intermediate state.
func (s *Server) destroyNowLocked(m *machine, source string) {
	s.beginLocked(m)
	m.lease = nil
	s.addEventLocked(m, "destroy", stateDestroyed, source)
	s.setStateLocked(m, stateDestroyed)
}

// resting reports whether the machine is in a persistent state, i.e. no
// transition is under way.
func resting(m *machine) bool {
	switch m.m.State {
	case stateStarted, stateStopped, stateSuspended, stateFailed, stateDestroyed:
		return true
	case stateCreated:
		return !m.launching
	}
	return false
}
