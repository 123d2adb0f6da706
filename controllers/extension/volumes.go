package extension

import (
	"context"
	"fmt"
	"sort"
	"strings"

	flygo "github.com/superfly/fly-go"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/log"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
	"github.com/jetway-dev/jetway/controllers/internal/extstatus"
	"github.com/jetway-dev/jetway/internal/domain"
	"github.com/jetway-dev/jetway/internal/fly"
)

// A plan with storage gives each machine a Fly volume of its own, made in
// the machine's region before the machine and mounted by it. Fly's volume
// create has no idempotency key, so the volume's name is what finds it
// again: a pass that dies between creating the volume and creating the
// machine finds the volume, unattached, on the next pass and mounts it
// rather than making a second. A replica that is replaced mounts its
// predecessor's volume the same way. Volumes are looked at only on passes
// that create machines, so an idle extension's resync costs no Fly call
// for them. See docs/storage.md.

// volumeName is the Fly name of a machine key's volume. Fly allows up to
// 30 characters of [a-z0-9_].
func volumeName(k jetwayv1.MachineKey) string {
	name := "data_" + k.Role + "_" + k.Region
	name = strings.Map(func(r rune) rune {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') || r == '_' {
			return r
		}
		return '_'
	}, strings.ToLower(name))
	return name[:min(len(name), 30)]
}

// needVolumes are the keys of a pass that need a volume: every machine to
// create, and every machine to update that mounts none (its plan has just
// gained storage).
func needVolumes(p machineSetPlan) []jetwayv1.MachineKey {
	keys := append([]jetwayv1.MachineKey(nil), p.create...)
	for _, m := range p.update {
		if mountedVolume(m) == "" {
			keys = append(keys, keyOf(m))
		}
	}
	return keys
}

// volumeMount is the mount a machine of key gets, without its volume id
// (which is each machine's own, and so not part of the config hash).
func volumeMount(plan *jetwayv1.ExtensionPlan, k jetwayv1.MachineKey) []flygo.MachineMount {
	if plan.Spec.Storage == nil {
		return nil
	}
	return []flygo.MachineMount{{Name: volumeName(k), Path: plan.Spec.Storage.MountPath}}
}

// listVolumes lists the app's volumes when the pass needs them: it
// creates or updates machines of a plan with storage. Other passes cost no
// Fly call for volumes.
func (r *Reconciler) listVolumes(ctx context.Context, ext *jetwayv1.Extension, plan *jetwayv1.ExtensionPlan, p machineSetPlan) ([]fly.Volume, error) {
	if !listsVolumes(plan, p) {
		return nil, nil
	}
	app := ext.Status.AppName
	vols, err := r.Fly.ListVolumes(ctx, app)
	if err != nil {
		extstatus.MarkFalse(ext, jetwayv1.ConditionMachinesReady, reasonFor(err), "Listing volumes failed: %v", err)
		return nil, fmt.Errorf("list volumes of %s: %w", app, err)
	}
	return vols, nil
}

// listsVolumes says whether a pass of p lists volumes: it creates or
// updates machines of a plan with storage.
func listsVolumes(plan *jetwayv1.ExtensionPlan, p machineSetPlan) bool {
	return plan.Spec.Storage != nil && (len(p.create) > 0 || len(p.update) > 0)
}

// volumesFor finds or creates the volume of each key among vols (which
// gains those it creates), and returns their ids by key. The listed and
// created volumes are metered.
func (r *Reconciler) volumesFor(ctx context.Context, ext *jetwayv1.Extension, plan *jetwayv1.ExtensionPlan, vols *[]fly.Volume, keys []jetwayv1.MachineKey) (map[jetwayv1.MachineKey]string, error) {
	storage := plan.Spec.Storage
	if storage == nil || len(keys) == 0 && *vols == nil {
		return nil, nil
	}
	app := ext.Status.AppName
	out := map[jetwayv1.MachineKey]string{}
	for _, k := range keys {
		if v := freeVolume(*vols, k); v != nil {
			out[k] = v.ID
			continue
		}
		if v := releasingVolume(*vols, k); v != nil {
			// The key's machine was destroyed (a wedged replica replaced)
			// and Fly still binds its volume to it until the destroy is
			// done: wait and mount it then, so the data stays, rather than
			// make a second, empty one. The machine is not created yet.
			log.FromContext(ctx).Info("Waiting for a destroyed machine's volume to be released before creating its successor",
				"volume", v.ID, "machine", ptr.Deref(v.AttachedMachine, ""), "role", k.Role, "region", k.Region)
			continue
		}
		size, retention := int(storage.SizeGB), snapshotRetention(storage)
		v, err := r.Fly.CreateVolume(ctx, app, flygo.CreateVolumeRequest{
			Name: volumeName(k), Region: k.Region, SizeGb: &size, SnapshotRetention: &retention,
			ComputeRequirements: machineGuest(plan), ComputeImage: plan.Spec.Image,
		})
		if err != nil {
			if t, ok := asTerminal(err); ok {
				extstatus.MarkFalse(ext, jetwayv1.ConditionMachinesReady, t.reason, "Creating the %s volume in %s: %s", k.Role, k.Region, t.message)
				return nil, t
			}
			extstatus.MarkFalse(ext, jetwayv1.ConditionMachinesReady, reasonFor(err),
				"Creating the %s machine's %d GB volume in %s failed: %s", k.Role, size, k.Region, flyMessage(err))
			return nil, fmt.Errorf("create %s volume in %s: %w", k.Role, k.Region, err)
		}
		*vols = append(*vols, *v)
		out[k] = v.ID
		log.FromContext(ctx).Info("Created volume", "volume", v.ID, "region", k.Region, "role", k.Role, "sizeGB", size)
		r.Recorder.Eventf(ext, domain.VolumeRef(v.ID), "Normal", "VolumeCreated", "CreateVolume",
			"Created %s volume %s (%d GB) in %s", k.Role, v.ID, size, k.Region)
	}
	// Metered before any machine mounts them (volume_usage.go).
	if err := r.meterVolumes(ctx, ext, plan, *vols, r.Settings.Billing.Now(), false); err != nil {
		return nil, err
	}
	return out, nil
}

// snapshotRetention is the plan's snapshot retention in days; the API
// server defaults it to 5, as Fly does, for plans written before it.
func snapshotRetention(s *jetwayv1.StorageSpec) int {
	if s.SnapshotRetentionDays == nil {
		return 5
	}
	return int(*s.SnapshotRetentionDays)
}

// freeVolume is key's volume that no machine mounts, the oldest if a lost
// answer made two; nil when there is none.
func freeVolume(vols []fly.Volume, k jetwayv1.MachineKey) *fly.Volume {
	var free []*fly.Volume
	for i := range vols {
		v := &vols[i]
		if v.Name == volumeName(k) && v.Region == k.Region && !v.IsAttached() && v.State != "pending_destroy" && v.State != "destroyed" {
			free = append(free, v)
		}
	}
	sort.Slice(free, func(i, j int) bool {
		if !free[i].CreatedAt.Equal(free[j].CreatedAt) {
			return free[i].CreatedAt.Before(free[j].CreatedAt)
		}
		return free[i].ID < free[j].ID
	})
	if len(free) == 0 {
		return nil
	}
	return free[0]
}

// releasingVolume is key's volume still bound to a machine, when the key
// has no machine (its machine is being destroyed), nil when there is none.
func releasingVolume(vols []fly.Volume, k jetwayv1.MachineKey) *fly.Volume {
	for i := range vols {
		v := &vols[i]
		if v.Name == volumeName(k) && v.Region == k.Region && v.IsAttached() && v.State != "pending_destroy" && v.State != "destroyed" {
			return v
		}
	}
	return nil
}

// withVolume is cfg mounting the volume id; cfg itself is shared by key
// and left as it is.
func withVolume(cfg *flygo.MachineConfig, id string) *flygo.MachineConfig {
	if len(cfg.Mounts) == 0 || id == "" {
		return cfg
	}
	c := *cfg
	c.Mounts = []flygo.MachineMount{cfg.Mounts[0]}
	c.Mounts[0].Volume = id
	return &c
}

// mountedVolume is the volume a machine mounts, "" for none.
func mountedVolume(m *fly.Machine) string {
	if m == nil || m.Config == nil || len(m.Config.Mounts) == 0 {
		return ""
	}
	return m.Config.Mounts[0].Volume
}
