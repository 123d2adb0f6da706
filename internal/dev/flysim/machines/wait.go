package machines

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/jetway-dev/jetway/internal/dev/flysim/internal/respond"
)

const maxWait = 60 * time.Second // flaps' proxy cuts requests at 60s; fly-go clamps to it too

var waitableStates = map[string]bool{
	stateStarted: true, stateStopped: true, stateSuspended: true, stateDestroyed: true,
}

// waitMachine blocks until the machine reaches ?state= (default started), the
// ?timeout= seconds pass (default and maximum 60), the client goes away, or
// the server closes.
//
// ?instance_id= (or ?version=) pins the wait to one version of the machine.
// Fly requires it for state=stopped, because "stopped" is otherwise
// ambiguous across an update. Waiting on a version that has since been
// replaced fails with the "currently replaced" error flyctl retries on.
func (s *Server) waitMachine(r *http.Request) respond.Reply {
	q := r.URL.Query()
	state := q.Get("state")
	if state == "" {
		state = stateStarted
	}
	if !waitableStates[state] {
		return respond.Err(http.StatusBadRequest, fmt.Sprintf("invalid_argument: cannot wait for state %q; use started, stopped, suspended or destroyed", state))
	}
	timeout := maxWait
	if v := q.Get("timeout"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return respond.Err(http.StatusBadRequest, fmt.Sprintf("invalid_argument: timeout %q must be whole seconds", v))
		}
		if time.Duration(n)*time.Second > maxWait {
			return respond.Err(http.StatusBadRequest, fmt.Sprintf("invalid_argument: timeout %ds exceeds the maximum of 60s", n))
		}
		if n > 0 {
			timeout = time.Duration(n) * time.Second
		}
	}
	instance := q.Get("instance_id")
	if instance == "" {
		instance = q.Get("version")
	}
	if state == stateStopped && instance == "" {
		return respond.Err(http.StatusBadRequest, "invalid_argument: instance_id is required when waiting for the stopped state")
	}

	s.mu.Lock()
	m, rp := s.machineLocked(r)
	if m == nil {
		s.mu.Unlock()
		return rp
	}
	if instance != "" && !slices.Contains(m.versions, instance) {
		s.mu.Unlock()
		return respond.Err(http.StatusBadRequest, fmt.Sprintf("invalid_argument: machine %s has no instance %s", m.m.ID, instance))
	}
	s.mu.Unlock()

	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			return respond.Err(http.StatusServiceUnavailable, "unavailable: server closed")
		}
		current, reached := m.m.Version, m.m.State == state
		changed := s.changed
		s.mu.Unlock()

		// A destroyed machine is destroyed whichever version was asked about.
		if instance != "" && instance != current && state != stateDestroyed {
			return respond.Err(http.StatusPreconditionFailed, fmt.Sprintf("failed_precondition: machine %s instance %s is currently replaced", m.m.ID, instance))
		}
		if reached {
			return respond.OK()
		}
		select {
		case <-changed:
		case <-deadline.C:
			return respond.Err(http.StatusRequestTimeout, fmt.Sprintf("deadline_exceeded: machine %s did not reach state %s within %s", m.m.ID, state, timeout))
		case <-r.Context().Done():
			// Nobody is listening; the status only matters for logs.
			return respond.Err(http.StatusRequestTimeout, "deadline_exceeded: request cancelled")
		case <-s.done:
			return respond.Err(http.StatusServiceUnavailable, "unavailable: server closed")
		}
	}
}
