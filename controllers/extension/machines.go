package extension

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	flygo "github.com/superfly/fly-go"
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
	configs := map[jetwayv1.MachineKey]*flygo.MachineConfig{}
	for _, k := range desired {
		configs[k] = machineConfig(ext, deps.plan, k)
	}
	plan := planMachineSet(desired, actual, known,
		func(k jetwayv1.MachineKey) string { return configs[k].Metadata[fly.MetaConfigHash] }, deps.plan.Spec.Image)

	logger := log.FromContext(ctx)
	for _, m := range plan.destroy {
		if err := r.Fly.DestroyMachine(ctx, app, m.ID); err != nil {
			extstatus.MarkFalse(ext, jetwayv1.ConditionMachinesReady, reasonFor(err), "Destroying extra machine %s failed: %v", m.ID, err)
			return 0, fmt.Errorf("destroy machine %s: %w", m.ID, err)
		}
		logger.Info("Destroyed machine", "machine", m.ID, "region", m.Region)
		r.Recorder.Eventf(ext, domain.MachineRef(m.ID), "Normal", "MachineDestroyed", "DestroyMachine", "Destroyed machine %s in %s", m.ID, m.Region)
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
	volumes, err := r.volumesFor(ctx, ext, deps.plan, needVolumes(plan))
	if err != nil {
		return 0, err
	}
	created := map[jetwayv1.MachineKey]*fly.Machine{}
	for _, k := range plan.create {
		m, err := r.Fly.CreateMachine(ctx, app, flygo.LaunchMachineInput{
			Region: k.Region,
			Name:   fmt.Sprintf("%s-%s", k.Role, k.Region),
			Config: withVolume(configs[k], volumes[k]),
		})
		if err != nil {
			// Save what was created so far before giving up the pass.
			r.recordMachines(ext, plan.keep, created)
			if t, ok := asTerminal(err); ok {
				extstatus.MarkFalse(ext, jetwayv1.ConditionMachinesReady, t.reason, "%s", t.message)
				return 0, t
			}
			extstatus.MarkFalse(ext, jetwayv1.ConditionMachinesReady, reasonFor(err), "Creating the %s machine in %s failed: %v", k.Role, k.Region, err)
			return 0, fmt.Errorf("create %s machine in %s: %w", k.Role, k.Region, err)
		}
		created[k] = m
		logger.Info("Created machine", "machine", m.ID, "region", k.Region, "role", k.Role)
		r.Recorder.Eventf(ext, domain.MachineRef(m.ID), "Normal", "MachineCreated", "CreateMachine", "Created %s machine %s in %s", k.Role, m.ID, k.Region)
	}
	if len(created) > 0 {
		// Machine ids go to status at once: Fly's create has no idempotency
		// key, and the id in status is what marks this machine as the one
		// to keep should a retried create have made a twin.
		r.recordMachines(ext, plan.keep, created)
		if err := status.saveMachineIDs(ctx, ext); err != nil {
			return 0, err
		}
	}
	for _, m := range plan.update {
		k := keyOf(m)
		if plan.keep[k] != m {
			continue // replaced above
		}
		if transientStates[m.State] {
			// Fly answers 412 until the machine settles. A settling machine
			// is not running, so judgeMachines below asks for another look
			// after the poll interval; a wedged one was handled above.
			continue
		}
		// The machine keeps the volume it has (its data is there); one the
		// plan has just given storage mounts a new one.
		vol := mountedVolume(m)
		if vol == "" {
			vol = volumes[k]
		}
		updated, err := r.Fly.UpdateMachine(ctx, app, flygo.LaunchMachineInput{ID: m.ID, Region: m.Region, Config: withVolume(configs[k], vol)})
		if err != nil {
			extstatus.MarkFalse(ext, jetwayv1.ConditionMachinesReady, reasonFor(err), "Updating machine %s failed: %v", m.ID, err)
			return 0, fmt.Errorf("update machine %s: %w", m.ID, err)
		}
		plan.keep[k] = updated
		logger.Info("Updated machine", "machine", m.ID, "region", m.Region)
		r.Recorder.Eventf(ext, domain.MachineRef(m.ID), "Normal", "MachineUpdated", "UpdateMachine", "Updated machine %s in %s to the desired config", m.ID, m.Region)
	}
	if err := r.restartStopped(ctx, ext, plan.keep, autostops(deps.plan)); err != nil {
		return 0, err
	}
	r.recordMachines(ext, plan.keep, created)
	if err := r.removeExtraVolumes(ctx, ext, deps, len(volumes) > 0); err != nil {
		return 0, err
	}
	wait := r.judgeMachines(ext, deps.plan, desired)
	if len(wedgedPrimaries) > 0 {
		r.markWedgedPrimaries(ext, wedgedPrimaries)
		return wedgedRecheck, nil
	}
	return wait, nil
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
// stable order.
func (r *Reconciler) recordMachines(ext *jetwayv1.Extension, keep, created map[jetwayv1.MachineKey]*fly.Machine) {
	var out []jetwayv1.MachineStatus
	for _, set := range []map[jetwayv1.MachineKey]*fly.Machine{keep, created} {
		for k, m := range set {
			out = append(out, jetwayv1.MachineStatus{ID: m.ID, Region: k.Region, Role: k.Role, State: m.State})
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
// started. Machines that sleep under autostop count as running.
func (r *Reconciler) judgeMachines(ext *jetwayv1.Extension, plan *jetwayv1.ExtensionPlan, desired []jetwayv1.MachineKey) time.Duration {
	sleepy := autostops(plan)
	running, failed := 0, []string{}
	for _, m := range ext.Status.Machines {
		switch m.State {
		case flygo.MachineStateStarted, flygo.MachineStateStopped, flygo.MachineStateSuspended:
			if m.State == flygo.MachineStateStarted || sleepy {
				running++
			}
		case "failed":
			failed = append(failed, fmt.Sprintf("%s (%s)", m.ID, m.Region))
		}
	}
	switch {
	case len(failed) > 0:
		extstatus.MarkFalse(ext, jetwayv1.ConditionMachinesReady, jetwayv1.ReasonMachineFailed,
			"Machine(s) %s failed on Fly; %d/%d running", strings.Join(failed, ", "), running, len(desired))
		return r.Settings.PollInterval
	case running == len(desired) && len(ext.Status.Machines) == len(desired) && sleepy && allAsleep(ext.Status.Machines):
		// Fly's proxy stopped them for want of traffic; the next request
		// wakes one. Ready, but asleep.
		extstatus.MarkTrue(ext, jetwayv1.ConditionMachinesReady, jetwayv1.ReasonMachinesAsleep, "%d/%d machines asleep; they wake on traffic", running, len(desired))
		return 0
	case running == len(desired) && len(ext.Status.Machines) == len(desired):
		extstatus.MarkTrue(ext, jetwayv1.ConditionMachinesReady, jetwayv1.ReasonMachinesRunning, "%d/%d machines running", running, len(desired))
		return 0
	default:
		extstatus.MarkFalse(ext, jetwayv1.ConditionMachinesReady, jetwayv1.ReasonMachinesStarting, "%d/%d machines running", running, len(desired))
		return r.Settings.PollInterval
	}
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
