package machines

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	fly "github.com/superfly/fly-go"

	"github.com/jetway-dev/jetway/internal/dev/flysim/internal/respond"
)

// Power actions. Each accepts exactly one resting state; anything else,
// including a machine still on its way there, is a 412 like flyd's
// "failed_precondition" errors. Callers are expected to /wait first.

// signals lists what Fly's SignalRequest enum allows for stop and restart.
var signals = map[string]bool{
	"SIGABRT": true, "SIGALRM": true, "SIGFPE": true, "SIGHUP": true, "SIGILL": true,
	"SIGINT": true, "SIGKILL": true, "SIGPIPE": true, "SIGQUIT": true, "SIGSEGV": true,
	"SIGTERM": true, "SIGTRAP": true, "SIGUSR1": true,
}

func (s *Server) startMachine(r *http.Request) respond.Reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, rp := s.mutableLocked(r)
	if m == nil {
		return rp
	}
	prev := m.m.State
	switch {
	case prev == stateStopped || prev == stateSuspended || prev == stateFailed:
	case prev == stateCreated && !m.launching:
	default:
		return respond.Err(http.StatusPreconditionFailed, "failed_precondition: machine still active, refusing to start")
	}
	if rp, full := s.capacityFaultLocked("machine_start", m.m.Region); full {
		return rp
	}
	s.startLocked(m)
	return respond.JSON(http.StatusOK, fly.MachineStartResponse{PreviousState: prev})
}

func (s *Server) stopMachine(r *http.Request) respond.Reply {
	var in fly.StopMachineInput
	if err := respond.DecodeBody(r, &in, false); err != nil {
		return respond.BadBody(err)
	}
	if in.ID != "" && in.ID != r.PathValue("id") {
		return respond.Err(http.StatusBadRequest, "invalid_argument: body id does not match the machine in the path")
	}
	if in.Signal != "" && !signals[in.Signal] {
		return respond.Err(http.StatusBadRequest, fmt.Sprintf("invalid_argument: unknown signal %q", in.Signal))
	}
	if in.Timeout.Duration < 0 {
		return respond.Err(http.StatusBadRequest, "invalid_argument: timeout must not be negative")
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	m, rp := s.mutableLocked(r)
	if m == nil {
		return rp
	}
	if m.m.State != stateStarted {
		return respond.Err(http.StatusPreconditionFailed, "failed_precondition: unable to stop machine, not currently started")
	}
	s.stopLocked(m)
	return respond.OK()
}

func (s *Server) suspendMachine(r *http.Request) respond.Reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, rp := s.mutableLocked(r)
	if m == nil {
		return rp
	}
	if m.m.State != stateStarted {
		return respond.Err(http.StatusPreconditionFailed, "failed_precondition: unable to suspend machine, not currently started")
	}
	s.suspendLocked(m)
	return respond.OK()
}

// restartMachine takes its options in the query string, as fly-go sends
// them: force_stop, timeout (a Go duration or whole seconds) and signal.
func (s *Server) restartMachine(r *http.Request) respond.Reply {
	if _, err := parseBoolParam(r, "force_stop"); err != nil {
		return respond.BadBody(err)
	}
	q := r.URL.Query()
	if t := q.Get("timeout"); t != "" {
		if _, err := parseTimeout(t); err != nil {
			return respond.BadBody(err)
		}
	}
	if sig := q.Get("signal"); sig != "" && !signals[sig] {
		return respond.Err(http.StatusBadRequest, fmt.Sprintf("invalid_argument: unknown signal %q", sig))
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	m, rp := s.mutableLocked(r)
	if m == nil {
		return rp
	}
	if m.m.State != stateStarted {
		return respond.Err(http.StatusPreconditionFailed, "failed_precondition: unable to restart machine, not currently started")
	}
	s.restartLocked(m)
	return respond.OK()
}

func parseTimeout(v string) (time.Duration, error) {
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		return time.Duration(n) * time.Second, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("timeout %q is not a duration", v)
	}
	return d, nil
}

// Cordoning takes a machine out of the proxy's rotation; it does not change
// its state, only the "cordoned" flag in its JSON.
func (s *Server) cordonMachine(r *http.Request) respond.Reply   { return s.setCordon(r, true) }
func (s *Server) uncordonMachine(r *http.Request) respond.Reply { return s.setCordon(r, false) }

func (s *Server) setCordon(r *http.Request, on bool) respond.Reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, rp := s.mutableLocked(r)
	if m == nil {
		return rp
	}
	if m.cordoned != on {
		m.cordoned = on
		kind := "uncordon"
		if on {
			kind = "cordon"
		}
		s.addEventLocked(m, kind, m.m.State, "user")
		m.m.UpdatedAt = s.now().Format(time.RFC3339)
	}
	return respond.OK()
}
