package extension

import (
	"fmt"
	"sort"
	"strings"
	"time"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
	"github.com/jetway-dev/jetway/internal/fly"
)

// A change of config (image, guest size, storage, services, env) reaches an
// extension's machines a step at a time, the way a Deployment rolls pods:
// replicas first, in region order, the primary last, each pass changing
// no more machines than keeps the number out of service within the plan's
// maxUnavailable; a changed machine counts as out of service until Fly
// reports it started with every check passing. A changed machine that has
// not passed its checks within the plan's healthTimeout pauses the
// rollout there: the machines not yet changed stay on the old config until
// the plan changes again or the machine recovers. Every step is computed
// afresh from what Fly reports, so a pass that dies mid-rollout leaves
// nothing to resume but the machines themselves. Across a plan's
// extensions, fleetGate bounds how many change at once. See
// docs/rollouts.md.

// rolloutStep is what one pass does for an extension's rollout.
type rolloutStep struct {
	// update are the drifted machines to change in this pass, in order.
	update []*fly.Machine
	// phase is one of jetwayv1's Rollout phases.
	phase string
	// message says what the rollout is doing or waiting for.
	message string
	// failed is the changed machine that paused the rollout, if any.
	failed *fly.Machine
	// refused is set when the pause is a volume that would have to
	// shrink.
	refused *shrinkRefused
	// updated counts the machines on the desired config; total the
	// desired machines.
	updated, total int
}

// rolloutInput is what planRollout judges from.
type rolloutInput struct {
	keep    map[jetwayv1.MachineKey]*fly.Machine
	drifted []*fly.Machine
	// missing counts desired machines that do not exist yet: they are out
	// of service too.
	missing        int
	health         func(*fly.Machine) machineHealth
	maxUnavailable int
	healthTimeout  time.Duration
	now            time.Time
	// wasRolling says the last pass left the rollout Progressing or Paused:
	// its last change then still has to serve before the rollout is
	// Complete. A new extension's booting machines are no rollout.
	wasRolling bool
}

// planRollout decides the pass's step. It changes nothing.
func planRollout(in rolloutInput) rolloutStep {
	drifted := map[*fly.Machine]bool{}
	for _, m := range in.drifted {
		drifted[m] = true
	}
	step := rolloutStep{total: len(in.keep) + in.missing}
	unavailable := in.missing
	for _, m := range in.keep {
		if !drifted[m] {
			step.updated++
		}
		if !in.health(m).healthy {
			unavailable++
		}
	}
	rolling := len(in.drifted) > 0 || in.wasRolling
	if failed, byUpdate := failedChange(in, drifted); failed != nil && (rolling || byUpdate) {
		// (A machine of a new extension that will not pass its checks is
		// no rollout's: MachinesReady says ChecksFailing, and the
		// progressDeadline turns it into an error for Fly.)
		step.phase, step.failed = jetwayv1.RolloutPaused, failed
		h := in.health(failed)
		step.message = fmt.Sprintf("Paused at %s machine %s in %s: not healthy %s after its change (%s); %d of %d machines on the new config, the rest left as they were",
			failed.Config.Metadata[fly.MetaRole], failed.ID, failed.Region, in.healthTimeout, healthWords(failed, h), step.updated, step.total)
		return step
	}
	if len(in.drifted) == 0 {
		if (in.wasRolling || updatedAndSettling(in, drifted)) && unavailable > 0 {
			// The last change is not done until its machine serves.
			step.phase = jetwayv1.RolloutProgressing
			step.message = fmt.Sprintf("Waiting for changed machines to pass their checks; %d of %d machines on the new config", step.updated, step.total)
			return step
		}
		step.phase = jetwayv1.RolloutComplete
		step.message = fmt.Sprintf("All %d machines on the desired config", step.updated)
		return step
	}
	step.phase = jetwayv1.RolloutProgressing
	budget := max(in.maxUnavailable, 1) - unavailable
	var waiting []string
	for _, m := range rolloutOrder(in.drifted) {
		primary := keyOf(m).Role == jetwayv1.RolePrimary
		healthy := in.health(m).healthy
		switch {
		case transientStates[m.State]:
			// Fly refuses to change a machine that has not settled.
			waiting = append(waiting, m.ID+" to settle")
		case primary && (len(in.drifted) > 1 || unavailable > 0 && healthy):
			// The primary goes last, once every replica runs the new
			// config and serves.
			waiting = append(waiting, "the replicas before the primary")
		case !healthy:
			// Out of service already: changing it costs no availability,
			// and may be the very fix.
			step.update = append(step.update, m)
		case budget > 0:
			step.update = append(step.update, m)
			budget--
		default:
			waiting = append(waiting, "changed machines to pass their checks")
		}
	}
	ids := make([]string, len(step.update))
	for i, m := range step.update {
		ids[i] = m.ID
	}
	switch {
	case len(ids) > 0:
		step.message = fmt.Sprintf("Changing %s; %d of %d machines on the new config", strings.Join(ids, ", "), step.updated, step.total)
	default:
		step.message = fmt.Sprintf("Waiting for %s; %d of %d machines on the new config", waiting[0], step.updated, step.total)
	}
	return step
}

// failedChange is the first machine on the new config that has not become
// healthy within the health timeout of its change, nil when none has;
// byUpdate says Fly's events show that change was an update, so it is a
// rollout's, whatever status remembers (a pass whose status write was lost
// after it updated the machine leaves no Progressing behind).
func failedChange(in rolloutInput, drifted map[*fly.Machine]bool) (_ *fly.Machine, byUpdate bool) {
	var failed []*fly.Machine
	updated := map[*fly.Machine]bool{}
	for _, m := range in.keep {
		if drifted[m] || in.health(m).healthy {
			continue
		}
		if at, byUpd := changedAt(m); !at.IsZero() && in.now.Sub(at) > in.healthTimeout {
			failed = append(failed, m)
			// A change that fails within a few timeouts is the change's;
			// a machine failing long after is an outage (ChecksFailing).
			updated[m] = byUpd && in.now.Sub(at) < changeOwnsFailureFor*in.healthTimeout
		}
	}
	if len(failed) == 0 {
		return nil, false
	}
	first := rolloutOrder(failed)[0]
	return first, updated[first]
}

// changeOwnsFailureFor is, in health timeouts, how long after an update a
// machine's failure is taken for the update's.
const changeOwnsFailureFor = 3

// updatedAndSettling reports whether a machine on the new config was
// updated within the health timeout and does not serve yet: a rollout's
// last step still under way, whatever status remembers.
func updatedAndSettling(in rolloutInput, drifted map[*fly.Machine]bool) bool {
	for _, m := range in.keep {
		if drifted[m] || in.health(m).healthy {
			continue
		}
		if at, byUpdate := changedAt(m); byUpdate && in.now.Sub(at) <= in.healthTimeout {
			return true
		}
	}
	return false
}

// rolloutOrder is replicas by region, then the primary.
func rolloutOrder(ms []*fly.Machine) []*fly.Machine {
	out := append([]*fly.Machine(nil), ms...)
	sort.SliceStable(out, func(i, j int) bool {
		ki, kj := keyOf(out[i]), keyOf(out[j])
		if (ki.Role == jetwayv1.RolePrimary) != (kj.Role == jetwayv1.RolePrimary) {
			return kj.Role == jetwayv1.RolePrimary
		}
		if ki.Region != kj.Region {
			return ki.Region < kj.Region
		}
		return out[i].ID < out[j].ID
	})
	return out
}

// healthWords says why a machine is not healthy.
func healthWords(m *fly.Machine, h machineHealth) string {
	if m.State != "started" {
		return "it is " + m.State
	}
	if h.checks != "" {
		return h.checks
	}
	return "it is not serving"
}
