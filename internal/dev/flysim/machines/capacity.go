package machines

import (
	"fmt"
	"net/http"

	"github.com/jetway-dev/jetway/internal/dev/flysim/internal/respond"
)

// Capacity errors. Fly fails placement when a host or region is full or
// the organization is over quota, and says so with codes that also mean
// other things (412 is also a version mismatch, 409 also a held lease,
// 400 also a bad request), so only the body tells them apart
// (research/fly-protocol.md §7.9). They are decided inside the handlers, at
// the point where Fly would place the machine: after validation and lease
// checks, before anything changes.

// capacityFaultLocked rolls for a placement failure of action (machine_create,
// machine_update, machine_start or volume_create) in region.
func (s *Server) capacityFaultLocked(action, region string) (respond.Reply, bool) {
	f := &s.faults
	roll, pick := f.capacity.Float64(), f.capacity.IntN(3)
	if roll >= f.cfg.CapacityErrorRate {
		return respond.Reply{}, false
	}
	s.injected[faultCapacity]++
	return capacityReply(action, s.opts.OrgSlug, region, pick), true
}

// capacityReply renders capacity error number pick (0–2) as Fly words it.
// Creates get the 412 Fly sends when the host holding a volume is full;
// updates and starts the 409 for a host that cannot reserve the machine's
// memory. Quota (403) and regional capacity (400) can hit any of them.
// A volume create only ever gets the 400 Fly sends for it.
func capacityReply(action, org, region string, pick int) respond.Reply {
	if action == "volume_create" {
		return noVolumeCapacityReply()
	}
	switch pick {
	case 0:
		if action == "machine_create" {
			return existingVolumeFullReply()
		}
		return respond.Err(http.StatusConflict, "aborted: could not reserve resource for machine: insufficient memory available to fulfill request")
	case 1:
		return respond.Err(http.StatusForbidden, fmt.Sprintf("organization %s is using 4096 MB of memory in %s which is over the allowed quota", org, region))
	default:
		return respond.ErrStatus(http.StatusBadRequest, "no capacity", "insufficient_capacity")
	}
}

// existingVolumeFullReply is Fly's answer to a machine create whose
// volume's host has no room for the machine.
func existingVolumeFullReply() respond.Reply {
	return respond.Err(http.StatusPreconditionFailed, "insufficient resources to create new machine with existing volume")
}

// noVolumeCapacityReply is Fly's answer to a volume create that finds no
// room in the region: {"error":"no capacity"}, without the status field the
// machine answer has (research/fly-protocol.md §7.9).
func noVolumeCapacityReply() respond.Reply {
	return respond.Err(http.StatusBadRequest, "no capacity")
}

// SetVolumeCapacity fills (available false) or frees a region's volume
// hosts. While full, creating a volume there answers Fly's 400 "no
// capacity", and creating a machine with an existing volume there Fly's 412
// "insufficient resources to create new machine with existing volume".
// Machines without volumes, and volumes already in use, are unaffected.
// Each refusal counts as an injected capacity fault. Also at PUT
// /flysim/v1/regions/{region}/volume-capacity.
func (s *Server) SetVolumeCapacity(region string, available bool) error {
	if !validRegion(region) {
		return fmt.Errorf("flysim: unknown region %q", region)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if available {
		delete(s.volumesFull, region)
	} else {
		s.volumesFull[region] = true
	}
	return nil
}

// VolumeCapacity reports whether region has room for volumes (see
// SetVolumeCapacity).
func (s *Server) VolumeCapacity(region string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return !s.volumesFull[region]
}

// existingVolumeFullLocked is the placement failure of a machine created
// with an existing volume whose region is full (see SetVolumeCapacity).
func (s *Server) existingVolumeFullLocked(vol *volume) (respond.Reply, bool) {
	if vol == nil || !s.volumesFull[vol.v.Region] {
		return respond.Reply{}, false
	}
	s.injected[faultCapacity]++
	return existingVolumeFullReply(), true
}
