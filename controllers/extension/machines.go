package extension

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	flygo "github.com/superfly/fly-go"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/log"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
	"github.com/jetway-dev/jetway/controllers/internal/extstatus"
	"github.com/jetway-dev/jetway/internal/domain"
	"github.com/jetway-dev/jetway/internal/fly"
)

// reconcileMachines observes the extension's machines on Fly, creates the
// missing ones, updates drifted ones, destroys extras, and records what
// exists. It returns how soon to look again while machines are booting.
func (r *Reconciler) reconcileMachines(ctx context.Context, ext *jetwayv1.Extension, deps *dependencies, status *statusWriter) (time.Duration, error) {
	app := ext.Status.AppName
	var actual []*fly.Machine
	if !deps.appIsNew {
		var err error
		actual, err = r.Fly.ListMachines(ctx, app, map[string]string{fly.MetaExtension: ext.Spec.ID})
		if err != nil {
			extstatus.MarkFalse(ext, jetwayv1.ConditionMachinesReady, reasonFor(err), "Listing machines failed: %v", err)
			return 0, fmt.Errorf("list machines of %s: %w", app, err)
		}
		// Metered before anything below can destroy a machine: Fly
		// forgets destroyed machines and their events.
		if err := r.meterUsage(ctx, ext, deps.plan, actual, r.Settings.Billing.Now(), true); err != nil {
			return 0, err
		}
	}
	known := map[string]bool{}
	for _, m := range ext.Status.Machines {
		known[m.ID] = true
	}
	desired := ext.Spec.DesiredMachines()
	configs := newDesiredConfigs(ext, deps.plan, currentPrimary(actual, known, ext.Spec.PrimaryRegion))
	plan := planMachineSet(desired, actual, known, configs.hash, deps.plan.Spec.Image)

	if err := r.destroyExtras(ctx, ext, plan.destroy); err != nil {
		return 0, err
	}
	// Wedged machines are dealt with before anything is asked of them: Fly
	// refuses to update a machine that has not settled, so a wedged
	// replica that also drifted would otherwise fail every pass and never
	// be replaced. A replaced replica is created anew in this same pass.
	wedgedPrimaries, replaced, err := r.replaceWedged(ctx, ext, plan.keep)
	if err != nil {
		return 0, err
	}
	plan.create = append(plan.create, replaced...)
	vols, err := r.listVolumes(ctx, ext, deps.plan, plan)
	if err != nil {
		return 0, err
	}
	volumes, err := r.volumesFor(ctx, ext, deps.plan, &vols, needVolumes(plan))
	if err != nil {
		return 0, err
	}
	created, err := r.createMachines(ctx, ext, plan, configs, volumes)
	if len(created) > 0 {
		// Machine ids go to status at once: Fly's create has no idempotency
		// key, and the id in status is what marks this machine as the one
		// to keep should a retried create have made a twin.
		r.recordMachines(ext, plan.keep, created, configs)
		if serr := status.saveMachineIDs(ctx, ext); serr != nil || err != nil {
			return 0, errors.Join(err, serr)
		}
	}
	if err != nil {
		r.recordMachines(ext, plan.keep, created, configs)
		return 0, err
	}
	step, err := r.rollOut(ctx, ext, deps.plan, plan, configs, volumes, vols, len(created))
	if err != nil {
		return 0, err
	}
	if err := r.restartStopped(ctx, ext, plan.keep, autostops(deps.plan)); err != nil {
		return 0, err
	}
	r.recordMachines(ext, plan.keep, created, configs)
	if err := r.removeExtraVolumes(ctx, ext, deps, listsVolumes(deps.plan, plan)); err != nil {
		return 0, err
	}
	wait := r.judgeMachines(ext, deps.plan, desired, mergeMachines(plan.keep, created), step)
	if len(wedgedPrimaries) > 0 {
		r.markWedgedPrimaries(ext, wedgedPrimaries)
		return wedgedRecheck, nil
	}
	return wait, nil
}

// optional is s, or nil when it is empty.
func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// mergeMachines is keep and created in one map.
func mergeMachines(keep, created map[jetwayv1.MachineKey]*fly.Machine) map[jetwayv1.MachineKey]*fly.Machine {
	out := make(map[jetwayv1.MachineKey]*fly.Machine, len(keep)+len(created))
	for _, set := range []map[jetwayv1.MachineKey]*fly.Machine{keep, created} {
		for k, m := range set {
			out[k] = m
		}
	}
	return out
}

// destroyExtras destroys machines no desired key keeps: twins of a retried
// create, and machines of keys no longer desired.
func (r *Reconciler) destroyExtras(ctx context.Context, ext *jetwayv1.Extension, extras []*fly.Machine) error {
	for _, m := range extras {
		if err := r.Fly.DestroyMachine(ctx, ext.Status.AppName, m.ID); err != nil {
			extstatus.MarkFalse(ext, jetwayv1.ConditionMachinesReady, reasonFor(err), "Destroying extra machine %s failed: %v", m.ID, err)
			return fmt.Errorf("destroy machine %s: %w", m.ID, err)
		}
		log.FromContext(ctx).Info("Destroyed machine", "machine", m.ID, "region", m.Region)
		r.Recorder.Eventf(ext, domain.MachineRef(m.ID), "Normal", "MachineDestroyed", "DestroyMachine", "Destroyed machine %s in %s", m.ID, m.Region)
	}
	return nil
}

// createMachines creates the missing machines, the primary first so that
// the replicas created with it learn its address. It returns what it
// created, also when it fails part way.
func (r *Reconciler) createMachines(ctx context.Context, ext *jetwayv1.Extension, plan machineSetPlan, configs *desiredConfigs, volumes map[jetwayv1.MachineKey]string) (map[jetwayv1.MachineKey]*fly.Machine, error) {
	created := map[jetwayv1.MachineKey]*fly.Machine{}
	for _, k := range plan.create {
		if configs.plan.Spec.Storage != nil && volumes[k] == "" {
			continue // its volume is not free yet (volumesFor)
		}
		m, err := r.Fly.CreateMachine(ctx, ext.Status.AppName, flygo.LaunchMachineInput{
			Region: k.Region,
			Name:   fmt.Sprintf("%s-%s", k.Role, k.Region),
			Config: withVolume(configs.of(k), volumes[k]),
		})
		if err != nil {
			if t, ok := asTerminal(err); ok {
				extstatus.MarkFalse(ext, jetwayv1.ConditionMachinesReady, t.reason, "%s", t.message)
				return created, t
			}
			extstatus.MarkFalse(ext, jetwayv1.ConditionMachinesReady, reasonFor(err), "Creating the %s machine in %s failed: %v", k.Role, k.Region, err)
			return created, fmt.Errorf("create %s machine in %s: %w", k.Role, k.Region, err)
		}
		created[k] = m
		if k.Role == jetwayv1.RolePrimary {
			configs.primaryIs(m)
		}
		log.FromContext(ctx).Info("Created machine", "machine", m.ID, "region", k.Region, "role", k.Role)
		r.Recorder.Eventf(ext, domain.MachineRef(m.ID), "Normal", "MachineCreated", "CreateMachine", "Created %s machine %s in %s", k.Role, m.ID, k.Region)
	}
	return created, nil
}

// restartStopped starts kept machines that crashed into "failed", and ones
// that were stopped behind Jetway's back when the plan does not let Fly's
// proxy stop them (then a stopped machine is down, not asleep).
func (r *Reconciler) restartStopped(ctx context.Context, ext *jetwayv1.Extension, keep map[jetwayv1.MachineKey]*fly.Machine, sleepy bool) error {
	for k, m := range keep {
		down := m.State == "failed" ||
			(!sleepy && (m.State == flygo.MachineStateStopped || m.State == flygo.MachineStateSuspended))
		if !down {
			continue
		}
		if err := r.Fly.StartMachine(ctx, ext.Status.AppName, m.ID); err != nil {
			extstatus.MarkFalse(ext, jetwayv1.ConditionMachinesReady, reasonFor(err), "Starting %s machine %s in %s failed: %s", k.Role, m.ID, k.Region, flyMessage(err))
			return fmt.Errorf("start machine %s: %w", m.ID, err)
		}
		log.FromContext(ctx).Info("Started machine that was down", "machine", m.ID, "region", k.Region, "state", m.State)
		r.Recorder.Eventf(ext, domain.MachineRef(m.ID), "Warning", jetwayv1.ReasonMachineRestarted, "StartMachine",
			"Machine %s in %s was %s; started it", m.ID, k.Region, m.State)
		// The observed state stays in status for this pass: a failed
		// machine shows as failed (MachinesReady=False) until the next look
		// finds it running again.
	}
	return nil
}

// recordMachines writes the kept and created machines to status, in a
// stable order, with their health and whether they run the desired config.
func (r *Reconciler) recordMachines(ext *jetwayv1.Extension, keep, created map[jetwayv1.MachineKey]*fly.Machine, configs *desiredConfigs) {
	var out []jetwayv1.MachineStatus
	for _, set := range []map[jetwayv1.MachineKey]*fly.Machine{keep, created} {
		for k, m := range set {
			out = append(out, jetwayv1.MachineStatus{
				ID: m.ID, Region: k.Region, Role: k.Role, State: m.State,
				Checks:   optional(checkSummary(m)),
				UpToDate: ptr.To(!drifted(m, configs.hash(k), configs.plan.Spec.Image)),
			})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Role != out[j].Role {
			return out[i].Role == jetwayv1.RolePrimary
		}
		if out[i].Region != out[j].Region {
			return out[i].Region < out[j].Region
		}
		return out[i].ID < out[j].ID
	})
	ext.Status.Machines = out
}

// judgeMachines sets MachinesReady: every desired machine exists and is
// healthy (started with every check passing, or asleep under autostop),
// and no rollout is paused.
func (r *Reconciler) judgeMachines(ext *jetwayv1.Extension, plan *jetwayv1.ExtensionPlan, desired []jetwayv1.MachineKey, machines map[jetwayv1.MachineKey]*fly.Machine, step rolloutStep) time.Duration {
	sleepy, now := autostops(plan), time.Now()
	healthy, failed, unhealthy := 0, []string{}, []string{}
	for _, k := range desired {
		m := machines[k]
		if m == nil {
			continue
		}
		switch h := healthOf(m, sleepy); {
		case m.State == "failed":
			failed = append(failed, fmt.Sprintf("%s (%s)", m.ID, m.Region))
		case h.healthy:
			healthy++
		case m.State == flygo.MachineStateStarted && checksDueIn(m, now) > 0:
			// Within its checks' grace period: still starting.
		case m.State == flygo.MachineStateStarted:
			unhealthy = append(unhealthy, fmt.Sprintf("%s %s: %s", k.Role, m.ID, healthWords(m, h)))
		}
	}
	switch {
	case len(failed) > 0:
		extstatus.MarkFalse(ext, jetwayv1.ConditionMachinesReady, jetwayv1.ReasonMachineFailed,
			"Machine(s) %s failed on Fly; %d/%d healthy", strings.Join(failed, ", "), healthy, len(desired))
		return r.Settings.PollInterval
	case step.refused != nil:
		extstatus.MarkFalse(ext, jetwayv1.ConditionMachinesReady, jetwayv1.ReasonStorageShrinkRefused, "%s", step.message)
		return 0
	case step.phase == jetwayv1.RolloutPaused:
		// Looked at again now and then: the machine may recover, and the
		// rollout then goes on by itself.
		extstatus.MarkFalse(ext, jetwayv1.ConditionMachinesReady, jetwayv1.ReasonRolloutPaused, "Rollout %s", lowerFirst(step.message))
		return pausedRecheck
	case healthy == len(desired) && len(machines) == len(desired) && sleepy && allAsleep(ext.Status.Machines):
		// Fly's proxy stopped them for want of traffic; the next request
		// wakes one. Ready, but asleep.
		extstatus.MarkTrue(ext, jetwayv1.ConditionMachinesReady, jetwayv1.ReasonMachinesAsleep, "%d/%d machines asleep; they wake on traffic", healthy, len(desired))
		return 0
	case healthy == len(desired) && len(machines) == len(desired):
		extstatus.MarkTrue(ext, jetwayv1.ConditionMachinesReady, jetwayv1.ReasonMachinesRunning, "%d/%d machines running and healthy", healthy, len(desired))
		return 0
	case len(unhealthy) > 0:
		extstatus.MarkFalse(ext, jetwayv1.ConditionMachinesReady, jetwayv1.ReasonChecksFailing,
			"%d/%d machines healthy; not passing their checks: %s", healthy, len(desired), strings.Join(unhealthy, "; "))
		return r.untilChecksDue(machines)
	default:
		extstatus.MarkFalse(ext, jetwayv1.ConditionMachinesReady, jetwayv1.ReasonMachinesStarting, "%d/%d machines running and healthy", healthy, len(desired))
		return r.untilChecksDue(machines)
	}
}

// untilChecksDue is how soon to look again at machines whose checks have
// not passed yet: when the first of them can, or the poll interval.
func (r *Reconciler) untilChecksDue(machines map[jetwayv1.MachineKey]*fly.Machine) time.Duration {
	wait, now := r.Settings.PollInterval, time.Now()
	for _, m := range machines {
		if due := checksDueIn(m, now); due > 0 && due < wait {
			wait = due
		}
	}
	return wait
}

// pausedRecheck is how often a paused rollout is looked at again.
const pausedRecheck = 30 * time.Second

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}

// autostops reports whether the plan lets Fly's proxy stop or suspend idle
// machines; a stopped machine is then asleep and wakes on traffic, not
// broken.
func autostops(plan *jetwayv1.ExtensionPlan) bool {
	for _, s := range plan.Spec.Services {
		if s.Autostop == "stop" || s.Autostop == "suspend" {
			return true
		}
	}
	return false
}

// allAsleep reports whether every machine is stopped or suspended.
func allAsleep(ms []jetwayv1.MachineStatus) bool {
	for _, m := range ms {
		if m.State != flygo.MachineStateStopped && m.State != flygo.MachineStateSuspended {
			return false
		}
	}
	return len(ms) > 0
}
