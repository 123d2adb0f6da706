package extension

import (
	"sort"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
	"github.com/jetway-dev/jetway/internal/fly"
)

// Replicas learn how to reach their primary over Fly's private network
// from JETWAY_PRIMARY_ADDRESS: the primary machine's own name in Fly's
// internal DNS, `<machine id>.vm.<app>.internal`, which resolves to that
// one machine's 6PN address (a region's or the app's name would resolve to
// replicas too). Its id is Fly's, known once the primary exists: the
// primary is created before the replicas of the same pass, and a primary
// replaced (its region changed, or an operator destroyed it) changes the
// replicas' config, so they roll onto the new address. Clients do not use
// this address; they reach the primary's port through Flycast
// (docs/primary-and-replicas.md).

// envPrimaryAddress is the replicas' environment variable.
const envPrimaryAddress = "JETWAY_PRIMARY_ADDRESS"

// primaryAddressOf is the private address of the primary machine id in app.
func primaryAddressOf(app, id string) string {
	if id == "" {
		return ""
	}
	return id + ".vm." + app + ".internal"
}

// currentPrimary is the live machine planMachineSet will keep as the
// primary in region, by the same choice (the one in status, then the
// oldest), or nil when there is none.
func currentPrimary(actual []*fly.Machine, known map[string]bool, region string) *fly.Machine {
	want := jetwayv1.MachineKey{Role: jetwayv1.RolePrimary, Region: region}
	var candidates []*fly.Machine
	for _, m := range actual {
		if m.IsActive() && keyOf(m) == want {
			candidates = append(candidates, m)
		}
	}
	if len(candidates) == 0 {
		return nil
	}
	sortKeepFirst(candidates, known)
	return candidates[0]
}

// sortKeepFirst orders a key's machines by which to keep: the one in
// status, then the oldest, then by id, so repeated passes agree.
func sortKeepFirst(candidates []*fly.Machine, known map[string]bool) {
	sort.SliceStable(candidates, func(i, j int) bool {
		ki, kj := known[candidates[i].ID], known[candidates[j].ID]
		if ki != kj {
			return ki
		}
		if candidates[i].CreatedAt != candidates[j].CreatedAt {
			return candidates[i].CreatedAt < candidates[j].CreatedAt
		}
		return candidates[i].ID < candidates[j].ID
	})
}

// servedBy reports whether a machine of role serves s.
func servedBy(s jetwayv1.ServiceSpec, role string) bool {
	if s.ServedBy == nil {
		return true
	}
	switch *s.ServedBy {
	case "primary":
		return role == jetwayv1.RolePrimary
	case "replicas":
		return role == jetwayv1.RoleReplica
	default:
		return true
	}
}
