package extension

import (
	"context"
	"fmt"

	"sigs.k8s.io/controller-runtime/pkg/log"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
	"github.com/jetway-dev/jetway/controllers/internal/extstatus"
	"github.com/jetway-dev/jetway/internal/domain"
	"github.com/jetway-dev/jetway/internal/fly"
)

// A plan's storage size is part of each machine's config (its metadata),
// so a larger size rolls through the machines like an image change: just
// before a machine is updated, its volume is extended, and the update's
// restart lets the machine see the new size (Fly reports needs_restart).
// Fly cannot shrink a volume. A plan's own size cannot shrink (the API
// server refuses it), but an extension can move to a plan with smaller
// volumes: that is refused here, machine by machine, with a condition, and
// the machine is left as it is.

// shrinkRefused is a machine whose volume is larger than its plan's.
type shrinkRefused struct {
	machine, volume string
	have, want      int
}

func (s *shrinkRefused) message() string {
	return fmt.Sprintf("The plan gives each machine a %d GB volume, but machine %s's volume %s has %d GB, and Fly cannot shrink a volume: "+
		"move the extension to a plan with at least %d GB, or restore it into a new one", s.want, s.machine, s.volume, s.have, s.have)
}

// fitVolume extends m's volume to the plan's size if it is smaller. It
// reports a volume larger than the plan's without touching it.
func (r *Reconciler) fitVolume(ctx context.Context, ext *jetwayv1.Extension, plan *jetwayv1.ExtensionPlan, m *fly.Machine, vols []fly.Volume) (*shrinkRefused, error) {
	storage, id := plan.Spec.Storage, mountedVolume(m)
	if storage == nil || id == "" {
		return nil, nil
	}
	var vol *fly.Volume
	for i := range vols {
		if vols[i].ID == id {
			vol = &vols[i]
		}
	}
	want := int(storage.SizeGB)
	switch {
	case vol == nil || vol.SizeGb == want:
		return nil, nil
	case vol.SizeGb > want:
		return &shrinkRefused{machine: m.ID, volume: id, have: vol.SizeGb, want: want}, nil
	}
	if _, _, err := r.Fly.ExtendVolume(ctx, ext.Status.AppName, id, want); err != nil {
		extstatus.MarkFalse(ext, jetwayv1.ConditionMachinesReady, reasonFor(err),
			"Extending volume %s of machine %s from %d to %d GB failed: %s", id, m.ID, vol.SizeGb, want, flyMessage(err))
		return nil, fmt.Errorf("extend volume %s: %w", id, err)
	}
	log.FromContext(ctx).Info("Extended volume", "volume", id, "machine", m.ID, "fromGB", vol.SizeGb, "toGB", want)
	r.Recorder.Eventf(ext, domain.VolumeRef(id), "Normal", "VolumeExtended", "ExtendVolume",
		"Extended volume %s of machine %s from %d to %d GB", id, m.ID, vol.SizeGb, want)
	vol.SizeGb = want
	// The new size is billed from now: vols is the pass's whole list, with
	// this volume as Fly now has it.
	return nil, r.meterVolumes(ctx, ext, plan, vols, r.Settings.Billing.Now(), false)
}
