package machines

import (
	"fmt"
	"net/http"
	"time"

	fly "github.com/superfly/fly-go"

	"github.com/jetway-dev/jetway/internal/dev/flysim/internal/respond"
)

// Autostop and autostart: what Fly's proxy does to machines whose services
// ask for it (fly-go MachineService.Autostop, Autostart). The simulator has
// no proxy and no real traffic, so traffic is simulated: Traffic (or POST
// /flysim/v1/apps/{app}/traffic) stands for a request to the app.
//
//   - Autostop (Options.IdleAfter > 0): a started machine with a service
//     whose autostop is "stop" or "suspend" (the first such service decides)
//     that has seen no traffic for IdleAfter since it started or since the
//     app's last request is stopped or suspended, with events of source
//     "fly-proxy". Fly's proxy decides on load, not idleness, and checks
//     every few minutes; IdleAfter is the simulator's simplification. It
//     keeps min_machines_running (the highest of the machine's services)
//     started machines in the app, in any region (the simulator has no
//     primary region), and leaves a leased machine alone, as flyd refuses
//     the proxy's stop while someone else holds the lease.
//   - Autostart: a request to an app none of whose machines with services is
//     started or on its way there starts one stopped or suspended machine
//     whose services have autostart true (a suspended one first, as it
//     resumes faster; then creation order), unless it is cordoned or
//     leased. Only one: Fly's proxy starts machines as load requires, and
//     one request needs one machine. Autostart works whether or not
//     autostop is on.
//
// Idle time is measured on the real clock, like every simulator timer, not
// on Options.Now.

// eventSourceProxy is the source of the machine events Fly's proxy causes.
const eventSourceProxy = "fly-proxy"

// autostopOf reads what the proxy does with an idle machine, and how many
// started machines it keeps.
func autostopOf(cfg *fly.MachineConfig) (mode fly.MachineAutostop, minRunning int) {
	if cfg == nil {
		return fly.MachineAutostopOff, 0
	}
	for _, svc := range cfg.Services {
		if mode == fly.MachineAutostopOff && svc.Autostop != nil {
			mode = *svc.Autostop
		}
		if svc.MinMachinesRunning != nil && *svc.MinMachinesRunning > minRunning {
			minRunning = *svc.MinMachinesRunning
		}
	}
	return mode, minRunning
}

func autostartOf(cfg *fly.MachineConfig) bool {
	if cfg == nil {
		return false
	}
	for _, svc := range cfg.Services {
		if svc.Autostart != nil && *svc.Autostart {
			return true
		}
	}
	return false
}

// routed reports whether the proxy sends the app's traffic to m at all.
func routed(m *machine) bool {
	return m.m.Config != nil && len(m.m.Config.Services) > 0 && !m.cordoned
}

// armAutostopLocked is called on every state change of m; when m has just
// started, it schedules the proxy's idle check. The check is dropped if
// anything else happens to m first (see stepLocked).
func (s *Server) armAutostopLocked(m *machine) {
	if s.opts.IdleAfter <= 0 || m.m.State != stateStarted {
		return
	}
	if mode, _ := autostopOf(m.m.Config); mode == fly.MachineAutostopOff {
		return
	}
	s.idleCheckLocked(m, m.gen, time.Now(), s.opts.IdleAfter)
}

// idleCheckLocked looks at m after d: if it has been idle for IdleAfter
// since it started at since, the proxy stops or suspends it; otherwise it
// looks again when it could be.
func (s *Server) idleCheckLocked(m *machine, gen uint64, since time.Time, d time.Duration) {
	s.stepLocked(m, gen, d, func() {
		if m.m.State != stateStarted {
			return
		}
		mode, minRunning := autostopOf(m.m.Config)
		if mode == fly.MachineAutostopOff {
			return
		}
		last := since
		if t := s.traffic[m.app]; t.After(last) {
			last = t
		}
		if wait := s.opts.IdleAfter - time.Since(last); wait > 0 {
			s.idleCheckLocked(m, gen, since, wait)
			return
		}
		if s.activeLeaseLocked(m) != nil || s.startedRoutedLocked(m.app) <= minRunning {
			s.idleCheckLocked(m, gen, since, s.opts.IdleAfter)
			return
		}
		if mode == fly.MachineAutostopSuspend {
			s.transitionByLocked(m, suspendTransition, s.shortTime(), eventSourceProxy)
		} else {
			s.transitionByLocked(m, stopTransition, s.shortTime(), eventSourceProxy)
		}
	})
}

// startedRoutedLocked counts a's started machines that take traffic.
func (s *Server) startedRoutedLocked(a *app) int {
	n := 0
	for _, m := range a.machines {
		if m.m.State == stateStarted && routed(m) {
			n++
		}
	}
	return n
}

// serving reports whether m takes traffic now or is on its way to.
func serving(m *machine) bool {
	if !routed(m) {
		return false
	}
	switch m.m.State {
	case stateStarted, stateStarting, stateRestarting, stateReplacing, stateUpdating:
		return true
	case stateCreated:
		return m.launching
	}
	return false
}

// Traffic simulates a request to app through Fly's proxy: it resets the
// idle time of the app's machines and, if none of the machines that take
// traffic is started or starting, starts one whose services have autostart
// (see the top of autostop.go). It returns the id of the machine it
// started, "" if none, and an error if the app does not exist.
func (s *Server) Traffic(app string) (started string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return "", fmt.Errorf("flysim: server closed")
	}
	a := s.apps[app]
	if a == nil {
		return "", fmt.Errorf("flysim: app %q not found", app)
	}
	s.traffic[a] = time.Now()
	var pick *machine
	for _, m := range a.machines {
		if serving(m) {
			return "", nil
		}
		st := m.m.State
		if !routed(m) || (st != stateStopped && st != stateSuspended) || !autostartOf(m.m.Config) || s.activeLeaseLocked(m) != nil {
			continue
		}
		if pick == nil || (st == stateSuspended && pick.m.State != stateSuspended) {
			pick = m
		}
	}
	if pick == nil {
		return "", nil
	}
	d := s.bootTime()
	if pick.m.State == stateSuspended {
		d = s.shortTime() // as startLocked: resuming is faster
	}
	s.transitionByLocked(pick, startTransition, d, eventSourceProxy)
	return pick.m.ID, nil
}

// trafficControl is POST /flysim/v1/apps/{app}/traffic: {"started":"<id>"}
// or {"started":null}.
func (s *Server) trafficControl(r *http.Request) respond.Reply {
	id, err := s.Traffic(r.PathValue("app"))
	if err != nil {
		s.mu.Lock()
		closed := s.closed
		s.mu.Unlock()
		if closed {
			return respond.Err(http.StatusServiceUnavailable, "unavailable: server closed")
		}
		return respond.Err(http.StatusNotFound, "app not found")
	}
	var out struct {
		Started *string `json:"started"`
	}
	if id != "" {
		out.Started = &id
	}
	return respond.JSON(http.StatusOK, out)
}
