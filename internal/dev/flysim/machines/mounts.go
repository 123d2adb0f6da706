package machines

import (
	"fmt"
	"net/http"
	"strings"

	fly "github.com/superfly/fly-go"

	"github.com/jetway-dev/jetway/internal/dev/flysim/internal/respond"
)

// Machines mount volumes through config.mounts. Fly's rules (docs "Fly
// Volumes overview"): a machine mounts at most one volume, a volume is
// attached to at most one machine, and only a machine in the volume's
// region can mount it. A volume stays bound to its machine until the
// machine is destroyed; stopping it is not enough (superfly/docs#2226).

// validateMounts checks what needs no state. Fly can fill a mount from a
// volume name or create one for it (fly deploy's [mounts]); the Machines
// API wants a volume id, and flysim insists on one.
func validateMounts(mounts []fly.MachineMount) error {
	if len(mounts) > 1 {
		return fmt.Errorf("a machine can mount only one volume, got %d mounts", len(mounts))
	}
	for i, mt := range mounts {
		if mt.Volume == "" {
			return fmt.Errorf("mounts[%d].volume is required: the id of a volume of this app", i)
		}
		if !strings.HasPrefix(mt.Path, "/") {
			return fmt.Errorf("mounts[%d].path %q must be an absolute path", i, mt.Path)
		}
	}
	return nil
}

// mountableLocked resolves the volume cfg mounts, for machine self (nil
// when creating) of app a in region. ok is false with the answer when
// the volume cannot be mounted; a nil volume means cfg mounts none.
func (s *Server) mountableLocked(a *app, region string, cfg *fly.MachineConfig, self *machine) (vol *volume, rp respond.Reply, ok bool) {
	if len(cfg.Mounts) == 0 {
		return nil, respond.Reply{}, true
	}
	id := cfg.Mounts[0].Volume
	vol = s.volumes[id]
	if vol == nil || vol.app != a || !vol.live() {
		return nil, respond.BadBody(fmt.Errorf("volume %q not found", id)), false
	}
	if vol.v.Region != region {
		// Fly's words are not known; 400 like the other refusals of a
		// machine config.
		return nil, respond.BadBody(fmt.Errorf("volume %s is in region %s, the machine in %s: a machine can only mount a volume in its own region", id, vol.v.Region, region)), false
	}
	if vol.attached != nil && vol.attached != self {
		// Fly's answer to mounting a bound volume is not known; these are
		// the words and status it uses to refuse deleting one.
		return nil, respond.Err(http.StatusPreconditionFailed, "failed_precondition: volume is currently bound to machine: "+vol.attached.m.ID), false
	}
	return vol, respond.Reply{}, true
}

// attachLocked binds vol (nil: none) to m, releasing whatever m had
// mounted before.
func (s *Server) attachLocked(m *machine, vol *volume) {
	s.detachLocked(m)
	if vol != nil {
		vol.attached = m
	}
}

// detachLocked releases every volume bound to m: on update, and when m
// is destroyed (see setStateLocked).
func (s *Server) detachLocked(m *machine) {
	for _, vol := range m.app.volumes {
		if vol.attached == m {
			vol.attached = nil
		}
	}
}
