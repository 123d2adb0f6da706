package machines

import (
	"fmt"
	"net"
	"sort"
	"time"

	fly "github.com/superfly/fly-go"
)

// Health checks: what Fly reports in a machine's "checks" (fly-go
// Machine.Checks) about the checks its config asks for, the service checks
// (config.services[].checks) and the top-level ones (config.checks). The
// simulator runs no process, so nothing is really probed: a check passes
// once its grace period is over, unless a check failure applies (see
// check_failures.go). The rules, with their sources, are in doc.go.

// DefaultCheckGracePeriod is a check's grace period when its config sets
// none.
// Fly documents no default; flyctl, waiting for a deploy's checks, takes
// 1s as the shortest grace period unless a check sets less
// (GetMinIntervalAndMinGracePeriod). Short, so that tests with default
// checks do not wait long, and not zero, so that a fresh machine is never
// healthy at once.
const DefaultCheckGracePeriod = time.Second

// checkPhase is how far a check has got in the machine's current run.
type checkPhase int

const (
	// checkUnlisted: not reported yet. Fly's list is empty for a freshly
	// started machine (flyctl's WaitForHealthchecksToPass, superfly/flyctl
	// #4952, counts the checks from the config for that reason).
	checkUnlisted checkPhase = iota
	// checkInGrace: listed as critical until the grace period is over.
	checkInGrace
	// checkRan: checked; passing unless a check failure applies.
	checkRan
)

// check is one configured check of a machine and what it reports now.
type check struct {
	name   string
	kind   string // "tcp" or "http"
	port   int
	method string // http only
	path   string // http only
	grace  time.Duration

	phase checkPhase
	// status is "" while the check is not listed.
	status    fly.ConsulCheckStatus
	output    string
	updatedAt time.Time // Options.Now when status or output last changed
}

// configuredChecks lists the checks cfg asks for, named as Fly names them:
// a service check "servicecheck-NN-TYPE-PORT", NN its two-digit index among
// its service's checks and PORT its port (the service's internal_port when
// unset), so two services can each have a servicecheck-00; a top-level
// check by its key, in key order after the service checks. Checks whose
// names coincide are one check, reported once, the first one kept: Fly
// reports identical service checks of two services under one name.
func configuredChecks(cfg *fly.MachineConfig) []*check {
	if cfg == nil {
		return nil
	}
	var out []*check
	seen := map[string]bool{}
	add := func(c *check) {
		if !seen[c.name] {
			seen[c.name] = true
			out = append(out, c)
		}
	}
	for _, svc := range cfg.Services {
		for i, sc := range svc.Checks {
			port := svc.InternalPort
			if sc.Port != nil {
				port = *sc.Port
			}
			kind := deref(sc.Type, "")
			add(&check{
				name: fmt.Sprintf("servicecheck-%02d-%s-%d", i, kind, port),
				kind: kind, port: port, method: deref(sc.HTTPMethod, ""), path: deref(sc.HTTPPath, ""),
				grace: gracePeriod(sc.GracePeriod),
			})
		}
	}
	names := make([]string, 0, len(cfg.Checks))
	for name := range cfg.Checks {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		c := cfg.Checks[name]
		add(&check{
			name: name, kind: deref(c.Type, ""), port: deref(c.Port, 0), method: deref(c.HTTPMethod, ""), path: deref(c.HTTPPath, ""),
			grace: gracePeriod(c.GracePeriod),
		})
	}
	return out
}

func gracePeriod(d *fly.Duration) time.Duration {
	if d == nil {
		return DefaultCheckGracePeriod
	}
	return d.Duration
}

// checksFollowStateLocked is called on every state change of m. Reaching
// started begins a new run of its checks; any other state, once m has
// started at least once, reports them all critical. A machine that never
// started reports none.
func (s *Server) checksFollowStateLocked(m *machine) {
	if m.m.State == stateStarted {
		s.startChecksLocked(m)
		return
	}
	if m.checkRuns == 0 {
		return
	}
	// The config may have changed since the run began (an update replaces
	// the machine): report the checks it asks for now, keeping what is
	// known of those it still has.
	was := map[string]*check{}
	for _, c := range m.checks {
		was[c.name] = c
	}
	m.checks = configuredChecks(m.m.Config)
	for i, c := range m.checks {
		if old := was[c.name]; old != nil && old.kind == c.kind {
			m.checks[i] = old
		}
	}
	s.refreshChecksLocked(m)
}

// startChecksLocked begins a run of m's checks: each is unlisted for the
// first half of its grace period, critical for the second half, and then
// checked. The steps follow the real clock, like every simulator timer, and
// are dropped if m leaves started or starts again before they are due.
func (s *Server) startChecksLocked(m *machine) {
	m.checkRuns++
	run := m.checkRuns
	m.checks = configuredChecks(m.m.Config)
	for _, c := range m.checks {
		s.checkStepLocked(m, run, c, c.grace/2, checkInGrace)
		s.checkStepLocked(m, run, c, c.grace, checkRan)
	}
	s.refreshChecksLocked(m)
}

// checkStepLocked moves c to phase after d, now if d is not positive.
// Phases only move forward: two overdue steps may run in either order.
func (s *Server) checkStepLocked(m *machine, run uint64, c *check, d time.Duration, phase checkPhase) {
	step := func() {
		if c.phase < phase {
			c.phase = phase
		}
	}
	if d <= 0 {
		step() // the caller refreshes
		return
	}
	s.afterLocked(d, func() {
		if m.checkRuns != run || m.m.State != stateStarted {
			return
		}
		step()
		s.refreshChecksLocked(m)
	})
}

// refreshChecksLocked sets what each of m's checks reports from m's state,
// the check's phase and the check failures in force; updated_at moves only
// when the report changes.
func (s *Server) refreshChecksLocked(m *machine) {
	failing := s.checksFailLocked(m)
	for _, c := range m.checks {
		status, output := reportOf(m, c, failing)
		if status == c.status && output == c.output {
			continue
		}
		c.status, c.output, c.updatedAt = status, output, s.now()
	}
}

// reportOf is what c reports: nothing while unlisted, critical while m is
// not started or c is in its grace period or failing, passing otherwise.
// Outputs read like those of Fly's checkers.
func reportOf(m *machine, c *check, failing bool) (fly.ConsulCheckStatus, string) {
	switch {
	case m.m.State != stateStarted:
		return fly.Critical, fmt.Sprintf("machine is %s: checks run only while it is started", m.m.State)
	case c.phase == checkUnlisted:
		return "", ""
	case c.phase == checkInGrace:
		return fly.Critical, fmt.Sprintf("waiting for the %s grace period to pass before the first check", c.grace)
	}
	addr := net.JoinHostPort(m.m.PrivateIP, fmt.Sprint(c.port))
	if c.kind == "http" {
		method, path := c.method, c.path
		if method == "" {
			method = "GET"
		}
		if path == "" {
			path = "/"
		}
		target := fmt.Sprintf("HTTP %s http://%s%s", method, addr, path)
		if failing {
			return fly.Critical, target + ": 500 Internal Server Error"
		}
		return fly.Passing, target + ": 200 OK"
	}
	if failing {
		return fly.Critical, "dial tcp " + addr + ": connect: connection refused"
	}
	return fly.Passing, "Success"
}

// checksViewLocked is m's "checks" as Fly lists them: the listed checks,
// in config order, freshly allocated so a view shares nothing with m.
func checksViewLocked(m *machine) []*fly.MachineCheckStatus {
	var out []*fly.MachineCheckStatus
	for _, c := range m.checks {
		if c.status == "" {
			continue
		}
		at := c.updatedAt
		out = append(out, &fly.MachineCheckStatus{Name: c.name, Status: c.status, Output: c.output, UpdatedAt: &at})
	}
	return out
}
