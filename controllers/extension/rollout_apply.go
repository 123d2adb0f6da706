package extension

import (
	"context"
	"fmt"
	"time"

	flygo "github.com/superfly/fly-go"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
	"github.com/jetway-dev/jetway/controllers/internal/extstatus"
	"github.com/jetway-dev/jetway/internal/domain"
	"github.com/jetway-dev/jetway/internal/fly"
)

// rollOut carries out this pass's step of the extension's rollout (see
// rollout.go): it asks the fleet gate before the first change of a
// rollout, grows each volume just before its machine changes, updates the
// machines of the step, and records the rollout in status. created are
// the machines this pass created: booting, they are out of service.
func (r *Reconciler) rollOut(ctx context.Context, ext *jetwayv1.Extension, plan *jetwayv1.ExtensionPlan, set machineSetPlan,
	configs *desiredConfigs, volumes map[jetwayv1.MachineKey]string, vols []fly.Volume, created int) (rolloutStep, error) {
	sleepy := autostops(plan)
	maxUnavailable, state := plan.Spec.Rollout.Limits().MaxUnavailable, rolloutState(ext)
	var changing []*fly.Machine
	for k, m := range set.keep {
		if drifted(m, configs.hash(k), plan.Spec.Image) {
			changing = append(changing, m)
		}
	}
	step := planRollout(rolloutInput{
		keep: set.keep, drifted: changing, missing: created,
		health:         func(m *fly.Machine) machineHealth { return healthOf(m, sleepy) },
		maxUnavailable: maxUnavailable,
		healthTimeout:  healthTimeout(plan),
		now:            time.Now(),
		wasRolling:     state == jetwayv1.RolloutProgressing || state == jetwayv1.RolloutPaused,
	})
	if len(step.update) > 0 {
		peers, lerr := r.peersOnPlan(ctx, plan)
		ok, why := false, "the plan's extensions could not be listed to count those changing"
		if lerr == nil {
			ok, why = r.fleet.admit(plan, ext, peers)
		}
		if !ok {
			step.update, step.phase = nil, jetwayv1.RolloutWaiting
			step.message = fmt.Sprintf("Waiting to change: %s; %d of %d machines on the new config", why, step.updated, step.total)
		}
	}
	var err error
	for _, m := range step.update {
		var refused *shrinkRefused
		if refused, err = r.fitVolume(ctx, ext, plan, m, vols); err != nil {
			break
		}
		if refused != nil {
			step.phase, step.failed, step.refused = jetwayv1.RolloutPaused, m, refused
			step.message = refused.message()
			break
		}
		if err = r.updateMachine(ctx, ext, set, m, configs, volumes); err != nil {
			break
		}
	}
	gatePhase := step.phase
	if step.refused != nil {
		// A refused shrink is the extension's plan choice, not a bad
		// change: it frees its place and does not count against the gate.
		gatePhase = jetwayv1.RolloutWaiting
	}
	r.fleet.finished(plan, ext, gatePhase)
	r.recordRollout(ext, plan, step)
	return step, err
}

// updateMachine changes m to its desired config. It keeps the volume it
// mounts (its data is there); one the plan has just given storage mounts a
// new one.
func (r *Reconciler) updateMachine(ctx context.Context, ext *jetwayv1.Extension, set machineSetPlan, m *fly.Machine,
	configs *desiredConfigs, volumes map[jetwayv1.MachineKey]string) error {
	k := keyOf(m)
	vol := mountedVolume(m)
	if vol == "" {
		vol = volumes[k]
	}
	updated, err := r.Fly.UpdateMachine(ctx, ext.Status.AppName, flygo.LaunchMachineInput{ID: m.ID, Region: m.Region, Config: withVolume(configs.of(k), vol)})
	if err != nil {
		extstatus.MarkFalse(ext, jetwayv1.ConditionMachinesReady, reasonFor(err), "Updating %s machine %s failed: %s", k.Role, m.ID, flyMessage(err))
		return fmt.Errorf("update machine %s: %w", m.ID, err)
	}
	set.keep[k] = updated
	log.FromContext(ctx).Info("Updated machine", "machine", m.ID, "region", m.Region, "role", k.Role)
	r.Recorder.Eventf(ext, domain.MachineRef(m.ID), "Normal", "MachineUpdated", "UpdateMachine", "Updated %s machine %s in %s to the desired config", k.Role, m.ID, m.Region)
	return nil
}

// recordRollout writes the step to status, as the RolledOut condition and
// status.rollout, and raises one event when a rollout pauses.
func (r *Reconciler) recordRollout(ext *jetwayv1.Extension, plan *jetwayv1.ExtensionPlan, step rolloutStep) {
	if step.phase == jetwayv1.RolloutPaused && rolloutState(ext) != jetwayv1.RolloutPaused {
		r.Recorder.Eventf(ext, domain.MachineRef(step.failed.ID), "Warning", jetwayv1.ReasonRolloutPaused, "UpdateMachine", "%s", step.message)
	}
	if step.phase == jetwayv1.RolloutComplete {
		extstatus.MarkTrue(ext, jetwayv1.ConditionRolledOut, step.phase, "%s", step.message)
	} else {
		extstatus.MarkFalse(ext, jetwayv1.ConditionRolledOut, step.phase, "%s", step.message)
	}
	ext.Status.Rollout = &jetwayv1.RolloutStatus{
		PlanGeneration:  ptr.To(plan.Generation),
		UpdatedMachines: ptr.To(int32(step.updated)),
		Machines:        ptr.To(int32(step.total)),
		Progress:        ptr.To(fmt.Sprintf("%d/%d", step.updated, step.total)),
	}
}

// rolloutState is the reason of ext's RolledOut condition: the state its
// rollout was left in; "" before the first.
func rolloutState(ext *jetwayv1.Extension) string {
	if c := meta.FindStatusCondition(ext.Status.Conditions, jetwayv1.ConditionRolledOut); c != nil {
		return c.Reason
	}
	return ""
}

// rolloutGeneration is the plan generation ext's rollout was last brought
// to.
func rolloutGeneration(ext *jetwayv1.Extension) int64 {
	if r := ext.Status.Rollout; r != nil && r.PlanGeneration != nil {
		return *r.PlanGeneration
	}
	return 0
}

// peersOnPlan are the extensions on plan, as cached. They are the cache's
// own objects, not copies (a fleet of thousands is listed by every pass
// that starts a change): read them, never change them.
func (r *Reconciler) peersOnPlan(ctx context.Context, plan *jetwayv1.ExtensionPlan) ([]jetwayv1.Extension, error) {
	var list jetwayv1.ExtensionList
	if err := r.List(ctx, &list, client.UnsafeDisableDeepCopy); err != nil {
		log.FromContext(ctx).Error(err, "Listing the plan's extensions for the fleet gate failed", "plan", plan.Name)
		return nil, err
	}
	var out []jetwayv1.Extension
	for i := range list.Items {
		if onPlan(&list.Items[i], plan) {
			out = append(out, list.Items[i])
		}
	}
	return out, nil
}
