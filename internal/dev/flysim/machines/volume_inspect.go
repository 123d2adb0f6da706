package machines

import (
	"time"

	fly "github.com/superfly/fly-go"
)

// Inspection helpers for volumes, like those of inspect.go: not requests,
// never rate limited, and they hand out copies.

// VolumeInfo is one volume as the simulator knows it, for tests and the
// chaos invariants.
type VolumeInfo struct {
	App    string
	ID     string
	Name   string
	Region string
	Zone   string
	SizeGB int
	// CreatedAt is the volume's created_at, by Options.Now.
	CreatedAt time.Time
	// State is "created", "pending_destroy" or "destroyed"; a deleted
	// app's volumes are destroyed with it.
	State string
	// AttachedMachine is the machine bound to the volume, "" for none.
	AttachedMachine string
	// Snapshots counts its snapshots still within their retention.
	Snapshots int
	// RestoredFrom is the snapshot the volume was created from, "" for a
	// new, empty one.
	RestoredFrom string
}

// AllVolumes lists every volume ever created, destroyed ones and those of
// deleted apps included, in creation order, as AllMachineIDs does for
// machines.
func (s *Server) AllVolumes() []VolumeInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	out := make([]VolumeInfo, 0, len(s.volumesCreated))
	for _, vol := range s.volumesCreated {
		info := VolumeInfo{
			App:          vol.app.name,
			ID:           vol.v.ID,
			Name:         vol.v.Name,
			Region:       vol.v.Region,
			Zone:         vol.v.Zone,
			SizeGB:       vol.v.SizeGb,
			CreatedAt:    vol.v.CreatedAt,
			State:        vol.v.State,
			Snapshots:    len(snapshotsLive(vol, now)),
			RestoredFrom: vol.restoredFrom,
		}
		if vol.attached != nil {
			info.AttachedMachine = vol.attached.m.ID
		}
		out = append(out, info)
	}
	return out
}

// Volumes returns app's volumes that are not destroyed, in creation order,
// as the list endpoint shows them. Unknown app: nil.
func (s *Server) Volumes(app string) []fly.Volume {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.apps[app]
	if a == nil {
		return nil
	}
	out := []fly.Volume{}
	for _, vol := range a.volumes {
		if vol.v.State != volumeDestroyed {
			out = append(out, volumeViewOf(vol).Volume) // a fresh attached_machine_id each time
		}
	}
	return out
}

// VolumeSnapshots returns a volume's snapshots still within their
// retention, oldest first, whether or not the volume or its app still
// exists. Unknown volume: nil.
func (s *Server) VolumeSnapshots(volumeID string) []fly.VolumeSnapshot {
	s.mu.Lock()
	defer s.mu.Unlock()
	vol := s.volumes[volumeID]
	if vol == nil {
		return nil
	}
	out := []fly.VolumeSnapshot{}
	for _, sn := range snapshotsLive(vol, s.now()) {
		c := sn.s
		days := *sn.s.RetentionDays
		c.RetentionDays = &days
		out = append(out, c)
	}
	return out
}
