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
// machine_update or machine_start) in region.
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
func capacityReply(action, org, region string, pick int) respond.Reply {
	switch pick {
	case 0:
		if action == "machine_create" {
			return respond.Err(http.StatusPreconditionFailed, "insufficient resources to create new machine with existing volume")
		}
		return respond.Err(http.StatusConflict, "aborted: could not reserve resource for machine: insufficient memory available to fulfill request")
	case 1:
		return respond.Err(http.StatusForbidden, fmt.Sprintf("organization %s is using 4096 MB of memory in %s which is over the allowed quota", org, region))
	default:
		return respond.ErrStatus(http.StatusBadRequest, "no capacity", "insufficient_capacity")
	}
}
