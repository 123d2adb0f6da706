package extension

import (
	"fmt"
	"strings"
	"time"

	flygo "github.com/superfly/fly-go"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
	"github.com/jetway-dev/jetway/internal/fly"
)

// A machine is healthy when it serves: Fly reports it started and every one
// of its checks passing (the plan's service checks run on Fly, which
// reports each machine's results in its `checks`). A machine that Fly's
// proxy put to sleep under autostop runs no checks and is healthy too: it
// wakes on the next connection. Ready needs every machine healthy, and a
// rollout waits for a changed machine to be healthy before the next.

// machineHealth is what Jetway makes of one machine's state and checks.
type machineHealth struct {
	healthy bool
	// checks sums up the checks for status: "passing", or the first one
	// that is not and its output; "" when the machine has none.
	checks string
}

// maxCheckSummary bounds what a check's output may put in status: it is
// the service's own words, and may be long.
const maxCheckSummary = 200

// healthOf judges m. sleepy says the plan lets Fly's proxy stop idle
// machines.
func healthOf(m *fly.Machine, sleepy bool) machineHealth {
	checks := checkSummary(m)
	switch m.State {
	case flygo.MachineStateStarted:
		return machineHealth{healthy: checks == "" || checks == "passing", checks: checks}
	case flygo.MachineStateStopped, flygo.MachineStateSuspended:
		// Fly runs no checks on a machine that is not running; whatever it
		// last reported is stale.
		return machineHealth{healthy: sleepy}
	default:
		return machineHealth{checks: checks}
	}
}

// checkSummary is "passing" when every check the machine's config declares
// is reported passing, the first that is not otherwise (Fly lists them in
// a stable order), and "" when the config declares none. Fly lists no
// checks at all for a machine that has only just started, so a short list
// is not a passing one.
func checkSummary(m *fly.Machine) string {
	declared := declaredChecks(m)
	if declared == 0 && len(m.Checks) == 0 {
		return ""
	}
	passing := 0
	for _, c := range m.Checks {
		if c != nil && c.Status == flygo.Passing {
			passing++
		}
	}
	for _, c := range m.Checks {
		if c == nil || c.Status == flygo.Passing {
			continue
		}
		s := fmt.Sprintf("%s %s", c.Name, c.Status)
		if out := strings.TrimSpace(c.Output); out != "" {
			s += ": " + out
		}
		if len(s) > maxCheckSummary {
			s = s[:maxCheckSummary-1] + "…"
		}
		return s
	}
	if passing < declared {
		return fmt.Sprintf("%d of %d checks reported, none failing yet", passing, declared)
	}
	return "passing"
}

// declaredChecks counts the checks m's config asks Fly to run, as Fly
// names them: a service check is "servicecheck-<nn>-<type>-<port>" (nn its
// place among its service's checks, port the service's internal one), so
// the same check on two services of one internal port (a write and a read
// port, say) is one check to Fly, reported once.
func declaredChecks(m *fly.Machine) int {
	if m.Config == nil {
		return 0
	}
	names := map[string]bool{}
	for name := range m.Config.Checks {
		names[name] = true
	}
	for _, s := range m.Config.Services {
		for i, c := range s.Checks {
			kind, port := "", s.InternalPort
			if c.Type != nil {
				kind = *c.Type
			}
			if c.Port != nil {
				port = *c.Port
			}
			names[fmt.Sprintf("servicecheck-%02d-%s-%d", i, kind, port)] = true
		}
	}
	return len(names)
}

// changedAt is when m last took a config change: its latest "update" event,
// else its creation; updated says it was an update. Fly's updated_at moves
// on every state change (a machine in a crash loop restarts over and
// over), so it cannot say how long a changed machine has had to pass its
// checks.
func changedAt(m *fly.Machine) (at time.Time, updated bool) {
	if at = latestEvent(m, "update", ""); !at.IsZero() {
		return at, true
	}
	created, _ := time.Parse(time.RFC3339, m.CreatedAt)
	return created, false
}

// healthTimeout is the plan's rollout.healthTimeoutSeconds.
func healthTimeout(plan *jetwayv1.ExtensionPlan) time.Duration {
	return time.Duration(plan.Spec.Rollout.Limits().HealthTimeoutSeconds) * time.Second
}

// checksDueIn is how soon a started machine's checks can first pass: its
// checks' grace period after it started, with a little slack for the
// check itself. 0 when that cannot be known (a check without a grace
// period, a machine not started or already past its grace): the caller
// then polls as usual. It lets a pass see a new machine become healthy
// within moments of Fly saying so, not a poll interval later; Fly sends
// no event when a check starts passing.
func checksDueIn(m *fly.Machine, now time.Time) time.Duration {
	if m.State != flygo.MachineStateStarted || m.Config == nil {
		return 0
	}
	var grace time.Duration
	graces := 0
	for _, s := range m.Config.Services {
		for _, c := range s.Checks {
			if c.GracePeriod == nil {
				return 0
			}
			grace = max(grace, c.GracePeriod.Duration)
			graces++
		}
	}
	for _, c := range m.Config.Checks {
		if c.GracePeriod == nil {
			return 0
		}
		grace = max(grace, c.GracePeriod.Duration)
		graces++
	}
	started := startedAt(m)
	if graces == 0 || started.IsZero() {
		return 0
	}
	due := started.Add(grace + checkSlack).Sub(now)
	if due <= 0 {
		return 0
	}
	return due
}

// checkSlack is how long after its grace period a check is looked at:
// the time the check itself takes to run and be reported.
const checkSlack = 150 * time.Millisecond

// startedAt is when m last reached "started", by its events.
func startedAt(m *fly.Machine) time.Time {
	return latestEvent(m, "start", flygo.MachineStateStarted)
}

// latestEvent is the time of m's latest event of kind (with status, unless
// it is ""), zero for none. Not fly-go's GetLatestEventOfType: that takes
// the first in the list, which holds only for Fly's newest-first order.
func latestEvent(m *fly.Machine, kind, status string) time.Time {
	var latest time.Time
	for _, e := range m.Events {
		if e != nil && e.Type == kind && (status == "" || e.Status == status) && e.Time().After(latest) {
			latest = e.Time()
		}
	}
	return latest
}
