package loadgen

import (
	"fmt"
	"math/rand/v2"
	"sync"
)

// regions are Fly region codes the gateway and flysim accept.
var regions = []string{"ams", "cdg", "fra", "iad", "lhr", "mad", "ord", "scl", "sin", "syd"}

// pool tracks the run's extensions: which ids the gateway accepted, which
// are live (may be read, changed or deleted), and which were deleted on
// purpose (exempt from the persistence check).
type pool struct {
	runID string
	orgs  int

	mu       sync.Mutex
	rng      *rand.Rand
	next     int
	bodies   map[string]map[string]any // every POST body sent, by id
	accepted map[string]bool           // POST answered 201 or 200
	live     []string                  // accepted and not being deleted
	deleted  map[string]bool           // a DELETE was sent
}

func newPool(runID string, seed int64) *pool {
	return &pool{
		runID: runID, orgs: 4,
		rng:      rand.New(rand.NewPCG(uint64(seed), 0x6c6f6164)),
		bodies:   map[string]map[string]any{},
		accepted: map[string]bool{},
		deleted:  map[string]bool{},
	}
}

// newRequest makes a fresh provisioning request.
func (p *pool) newRequest() (string, map[string]any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.next++
	id := fmt.Sprintf("load-%s-%05d", p.runID, p.next)
	org := fmt.Sprintf("load-org-%d", p.rng.IntN(p.orgs))
	body := map[string]any{
		"id":              id,
		"name":            id,
		"organization_id": org,
		"user_id":         "user-" + org,
		"user_role":       "admin",
		"primary_region":  regions[p.rng.IntN(len(regions))],
		"read_regions":    p.readRegionsLocked(),
	}
	p.bodies[id] = body
	return id, body
}

func (p *pool) readRegionsLocked() []string {
	out := []string{}
	for _, i := range p.rng.Perm(len(regions))[:p.rng.IntN(3)] {
		out = append(out, regions[i])
	}
	return out
}

// readRegions draws a read-region list for a PATCH.
func (p *pool) readRegions() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.readRegionsLocked()
}

// accept records a POST answered 201 or 200.
func (p *pool) accept(id string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.accepted[id] || p.deleted[id] {
		return
	}
	p.accepted[id] = true
	p.live = append(p.live, id)
}

// pickLive returns a random live id and its POST body, or "".
func (p *pool) pickLive() (string, map[string]any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.live) == 0 {
		return "", nil
	}
	id := p.live[p.rng.IntN(len(p.live))]
	return id, p.bodies[id]
}

// takeForDelete removes a random live id from the live set and marks it
// deleted on purpose before the DELETE is sent: whatever the answer, the
// extension may be gone.
func (p *pool) takeForDelete() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.live) == 0 {
		return ""
	}
	i := p.rng.IntN(len(p.live))
	id := p.live[i]
	p.live[i] = p.live[len(p.live)-1]
	p.live = p.live[:len(p.live)-1]
	p.deleted[id] = true
	return id
}

// pickKind draws a request kind by weight.
func (p *pool) pickKind(m Mix) kind {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := p.rng.IntN(m.Create + m.Repeat + m.Get + m.Update + m.Delete)
	for _, k := range []struct {
		k kind
		w int
	}{{kindCreate, m.Create}, {kindRepeat, m.Repeat}, {kindGet, m.Get}, {kindUpdate, m.Update}, {kindDelete, m.Delete}} {
		if n < k.w {
			return k.k
		}
		n -= k.w
	}
	return kindGet
}

// toVerify lists accepted ids not deleted on purpose, and the count of
// accepted ids that were.
func (p *pool) toVerify() (check []string, deletedOnPurpose int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for id := range p.accepted {
		if p.deleted[id] {
			deletedOnPurpose++
			continue
		}
		check = append(check, id)
	}
	return check, deletedOnPurpose
}

// liveIDs lists ids not deleted, for cleanup.
func (p *pool) liveIDs() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.live...)
}
