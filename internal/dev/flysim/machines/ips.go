package machines

import (
	"fmt"
	"net/http"
	"net/netip"

	"github.com/superfly/fly-go/flaps"

	"github.com/jetway-dev/jetway/internal/dev/flysim/internal/respond"
)

// IP assignments. Addresses are drawn from the ranges Fly uses so callers
// that look at prefixes (flaps.IPAssignment.IsFlycast checks "fdaa:") see
// the same thing they would in production:
//
//	private_v6  fdaa:0:<org net>:0:1::<n>  (Flycast, per organization)
//	v6          2a09:8280:1::<n>
//	v4          137.66.<n>                  (dedicated)
//	shared_v4   66.241.124.<x>             (shared with other apps, one per app)

func (s *Server) listIPs(r *http.Request) respond.Reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, rp := s.appLocked(r)
	if a == nil {
		return rp
	}
	out := flaps.ListIPAssignmentsResponse{IPs: append([]flaps.IPAssignment{}, a.ips...)}
	return respond.JSON(http.StatusOK, out)
}

func (s *Server) assignIP(r *http.Request) respond.Reply {
	var in flaps.AssignIPRequest
	if err := respond.DecodeBody(r, &in, true); err != nil {
		return respond.BadBody(err)
	}
	switch in.Type {
	case "v4", "v6", "shared_v4", "private_v6":
	case "":
		return respond.Err(http.StatusBadRequest, "invalid_argument: type is required")
	default:
		return respond.Err(http.StatusBadRequest, fmt.Sprintf("invalid_argument: unknown ip type %q; use v4, v6, shared_v4 or private_v6", in.Type))
	}
	if in.Region != "" && in.Region != "global" && !validRegion(in.Region) {
		return respond.Err(http.StatusBadRequest, fmt.Sprintf("invalid_argument: unknown region %q", in.Region))
	}
	// Only Flycast addresses live on an organization's private network; the
	// org may be another one (cross-org Flycast), which is how an extension's
	// address ends up reachable from the customer's organization.
	if in.Organization != "" && in.Type != "private_v6" {
		return respond.Err(http.StatusBadRequest, "invalid_argument: org_slug only applies to private_v6 addresses")
	}
	if in.Network != "" && in.Type != "private_v6" {
		return respond.Err(http.StatusBadRequest, "invalid_argument: network only applies to private_v6 addresses")
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	a, rp := s.appLocked(r)
	if a == nil {
		return rp
	}
	region := in.Region
	if region == "" {
		region = "global"
	}
	ip := flaps.IPAssignment{Region: region, ServiceName: in.ServiceName, CreatedAt: s.now()}
	switch in.Type {
	case "private_v6":
		net := s.orgNet
		if in.Organization != "" && in.Organization != s.opts.OrgSlug {
			net = orgNetwork(in.Organization)
		}
		if in.Network != "" {
			net = orgNetwork(in.Organization + "/" + in.Network)
		}
		ip.IP = s.uniqueIPLocked(func() string {
			s.ipSeq++
			return fmt.Sprintf("fdaa:0:%x:0:1::%x", net, s.ipSeq)
		})
	case "v6":
		ip.IP = s.uniqueIPLocked(func() string {
			s.ipSeq++
			return fmt.Sprintf("2a09:8280:1::%x:%x", s.ipSeq>>16, s.ipSeq&0xffff)
		})
	case "v4":
		ip.IP = s.uniqueIPLocked(func() string {
			s.ipSeq++
			return fmt.Sprintf("137.66.%d.%d", (s.ipSeq>>8)%256, s.ipSeq%254+1)
		})
	case "shared_v4":
		for _, have := range a.ips {
			if have.Shared {
				return respond.Err(http.StatusUnprocessableEntity, "app already has a shared IPv4 address "+have.IP)
			}
		}
		// Shared means shared: the same address can front many apps, so
		// it is not reserved in usedIPs.
		ip.IP = fmt.Sprintf("66.241.124.%d", 1+int(orgNetwork("app:"+a.name))%254)
		ip.Shared = true
	}
	a.ips = append(a.ips, ip)
	return respond.JSON(http.StatusOK, ip)
}

// deleteIP matches addresses by value, so "fdaa:0:1::1" and its expanded
// form name the same assignment.
func (s *Server) deleteIP(r *http.Request) respond.Reply {
	want, err := netip.ParseAddr(r.PathValue("ip"))
	if err != nil {
		return respond.Err(http.StatusBadRequest, fmt.Sprintf("invalid_argument: %q is not an IP address", r.PathValue("ip")))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a, rp := s.appLocked(r)
	if a == nil {
		return rp
	}
	for i, ip := range a.ips {
		if got, err := netip.ParseAddr(ip.IP); err == nil && got == want {
			if !ip.Shared {
				delete(s.usedIPs, ip.IP)
			}
			a.ips = append(a.ips[:i], a.ips[i+1:]...)
			return respond.Empty(http.StatusNoContent)
		}
	}
	return respond.Err(http.StatusNotFound, "ip assignment not found")
}
