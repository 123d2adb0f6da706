package machines

import (
	"errors"
	"fmt"
	"net/http"

	fly "github.com/superfly/fly-go"

	"github.com/jetway-dev/jetway/internal/dev/flysim/internal/respond"
)

// The volume endpoints, as fly-go's flaps client calls them
// (flaps/flaps_volumes.go) and Fly's spec names them
// (/apps/{app_name}/volumes...).

// volumeLocked resolves {app}/{volume}. A volume of another app is "not
// found", like a machine of another app. Destroyed volumes still resolve,
// for GET and for their snapshots.
func (s *Server) volumeLocked(r *http.Request) (*volume, respond.Reply) {
	a, rp := s.appLocked(r)
	if a == nil {
		return nil, rp
	}
	vol := s.volumes[r.PathValue("volume")]
	if vol == nil || vol.app != a {
		return nil, respond.Err(http.StatusNotFound, "volume not found")
	}
	return vol, respond.Reply{}
}

// liveVolumeLocked is volumeLocked for calls that change a volume: one
// being destroyed, or destroyed, is "not found" to them.
func (s *Server) liveVolumeLocked(r *http.Request) (*volume, respond.Reply) {
	vol, rp := s.volumeLocked(r)
	if vol == nil {
		return nil, rp
	}
	if !vol.live() {
		return nil, respond.Err(http.StatusNotFound, "volume not found")
	}
	return vol, respond.Reply{}
}

func (s *Server) createVolume(r *http.Request) respond.Reply {
	var in fly.CreateVolumeRequest
	if err := respond.DecodeBody(r, &in, true); err != nil {
		return respond.BadBody(err)
	}
	if in.SourceVolumeID != nil && *in.SourceVolumeID != "" {
		return respond.Err(http.StatusNotImplemented, "unimplemented: flysim does not simulate forking a volume (source_volume_id)")
	}
	nv, err := validateCreateVolume(&in)
	if err != nil {
		return respond.BadBody(err)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	a, rp := s.appLocked(r)
	if a == nil {
		return rp
	}
	if nv.snapshotID != "" {
		if rp, ok := s.restorableSnapshotLocked(a, &nv); !ok {
			return rp
		}
	}
	if s.volumesFull[nv.region] {
		s.injected[faultCapacity]++
		return noVolumeCapacityReply()
	}
	if rp, full := s.capacityFaultLocked("volume_create", nv.region); full {
		return rp
	}
	zone, ok := s.zoneLocked(a, nv)
	if !ok {
		// Every zone already holds one of the app's volumes of this name:
		// Fly's answer is not documented; flysim gives its placement
		// failure.
		return noVolumeCapacityReply()
	}
	vol := &volume{
		app: a,
		v: fly.Volume{
			ID:                s.volumeIDLocked(),
			Name:              nv.name,
			State:             volumeCreated,
			SizeGb:            nv.sizeGB,
			Region:            nv.region,
			Zone:              zone,
			Encrypted:         nv.encrypted,
			CreatedAt:         s.now(),
			SnapshotRetention: nv.retention,
			AutoBackupEnabled: nv.autoBackup,
			HostStatus:        string(fly.HostStatusOk),
		},
		fstype:       nv.fstype,
		restoredFrom: nv.snapshotID,
	}
	vol.sizes = []volumeChange{{at: vol.v.CreatedAt, sizeGB: vol.v.SizeGb}}
	s.volumes[vol.v.ID] = vol
	s.volumesCreated = append(s.volumesCreated, vol)
	a.volumes = append(a.volumes, vol)
	return respond.JSON(http.StatusOK, volumeViewOf(vol))
}

// listVolumes lists the app's volumes, those on their way out included
// (fly-go's GetVolumes filters them, GetAllVolumes does not); destroyed
// ones are gone from it. It takes no query parameters, and refuses any
// rather than ignore a filter it does not know.
func (s *Server) listVolumes(r *http.Request) respond.Reply {
	if q := r.URL.RawQuery; q != "" {
		return respond.Err(http.StatusBadRequest, fmt.Sprintf("invalid_argument: list volumes takes no query parameters, got %q", q))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a, rp := s.appLocked(r)
	if a == nil {
		return rp
	}
	out := []volumeView{}
	for _, vol := range a.volumes {
		if vol.v.State != volumeDestroyed {
			out = append(out, volumeViewOf(vol))
		}
	}
	return respond.JSON(http.StatusOK, out)
}

func (s *Server) getVolume(r *http.Request) respond.Reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	vol, rp := s.volumeLocked(r)
	if vol == nil {
		return rp
	}
	return respond.JSON(http.StatusOK, volumeViewOf(vol))
}

// updateVolume changes what fly.UpdateVolumeRequest can: snapshot
// retention (for snapshots taken from now on) and daily backups.
func (s *Server) updateVolume(r *http.Request) respond.Reply {
	var in fly.UpdateVolumeRequest
	if err := respond.DecodeBody(r, &in, true); err != nil {
		return respond.BadBody(err)
	}
	if in.SnapshotRetention != nil {
		if err := checkRetention(*in.SnapshotRetention); err != nil {
			return respond.BadBody(err)
		}
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	vol, rp := s.liveVolumeLocked(r)
	if vol == nil {
		return rp
	}
	if in.SnapshotRetention != nil {
		vol.v.SnapshotRetention = *in.SnapshotRetention
	}
	if in.AutoBackupEnabled != nil {
		vol.v.AutoBackupEnabled = *in.AutoBackupEnabled
	}
	return respond.JSON(http.StatusOK, volumeViewOf(vol))
}

// extendVolumeResponse is flaps.ExtendVolumeResponse with the volume as
// flysim renders it.
type extendVolumeResponse struct {
	Volume       volumeView `json:"volume"`
	NeedsRestart bool       `json:"needs_restart"`
}

// extendVolume only grows a volume, as Fly's volumes only grow (flyctl has
// "volumes extend" and nothing to shrink). A machine mounting it sees the
// new size after its next start: flysim always says so while the machine
// is up, where Fly can sometimes grow the filesystem online.
func (s *Server) extendVolume(r *http.Request) respond.Reply {
	var in struct {
		SizeGB *int `json:"size_gb"`
	}
	if err := respond.DecodeBody(r, &in, true); err != nil {
		return respond.BadBody(err)
	}
	if in.SizeGB == nil {
		return respond.BadBody(errors.New("size_gb is required"))
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	vol, rp := s.liveVolumeLocked(r)
	if vol == nil {
		return rp
	}
	if *in.SizeGB <= vol.v.SizeGb {
		return respond.BadBody(fmt.Errorf("size_gb %d must be larger than the volume's %d GB: volumes can only grow", *in.SizeGB, vol.v.SizeGb))
	}
	if err := checkVolumeSize(*in.SizeGB); err != nil {
		return respond.BadBody(err)
	}
	vol.v.SizeGb = *in.SizeGB
	s.logVolumeLocked(vol, vol.v.SizeGb)
	return respond.JSON(http.StatusOK, extendVolumeResponse{Volume: volumeViewOf(vol), NeedsRestart: needsRestart(vol.attached)})
}

// needsRestart reports whether m (nil: no machine) must be restarted to
// see its volume's new size: it is up, or suspended, which resumes with
// the old size in memory. A machine that is down sees the new size when
// it next boots.
func needsRestart(m *machine) bool {
	if m == nil {
		return false
	}
	switch m.m.State {
	case stateCreated, stateStopped, stateFailed, stateDestroying, stateDestroyed:
		return false
	}
	return true
}

// deleteVolume refuses while a machine is bound to the volume, stopped or
// not, with the words Fly uses (superfly/docs#2226: "failed_precondition:
// volume is currently bound to machine: 784eee3f40130"); the status is not
// quoted there, and 412 is what Fly's failed_precondition answers carry.
// It answers the volume on its way out.
func (s *Server) deleteVolume(r *http.Request) respond.Reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	vol, rp := s.liveVolumeLocked(r)
	if vol == nil {
		return rp
	}
	if vol.attached != nil {
		return respond.Err(http.StatusPreconditionFailed, "failed_precondition: volume is currently bound to machine: "+vol.attached.m.ID)
	}
	s.destroyVolumeLocked(vol)
	return respond.JSON(http.StatusOK, volumeViewOf(vol))
}
