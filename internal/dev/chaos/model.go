package chaos

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
)

// regions are codes flysim places machines in (its table in
// internal/flysim/regions.go); a subset keeps collisions between an
// extension's regions, and so region removals and re-adds, frequent.
var regions = []string{"ams", "cdg", "fra", "iad", "lhr", "mad", "nrt", "ord", "scl", "sin", "syd", "yyz"}

// orgs is how many Fly organizations the extensions spread over: several
// namespaces are created concurrently, and each holds many extensions.
const orgs = 8

// extension is what Fly asked for one extension, as the driver last had
// it accepted. It is the truth the invariants are checked against.
type extension struct {
	ID, Name, Org string
	Primary       string
	ReadRegions   []string
	// Plan is the plan Fly asked for; "" means the provider's default.
	Plan string

	Created bool              // a POST was answered 201 or 200
	Config  map[string]string // the config of the first accepted answer
	Updates int               // PATCHes answered 200
	Deleted bool              // a DELETE was answered 202 or 200
	// Undelivered is set when a call never got an answer: the model is
	// then unsure, and the extension is reported rather than checked.
	Undelivered string

	script script
}

// desired lists the machines Fly's last accepted request implies, as
// "role/region" keys.
func (e *extension) desired() []jetwayv1.MachineKey {
	spec := jetwayv1.ExtensionSpec{PrimaryRegion: e.Primary, ReadRegions: e.ReadRegions}
	return spec.DesiredMachines()
}

// script is what the driver will do to one extension, drawn up front from
// the seed so that a run's workload does not depend on goroutine timing.
type script struct {
	startAfter time.Duration
	duplicate  bool // Fly delivers the POST a second time after success
	updates    []update
	delete     bool
	// pauses precede each step after the POST: 0 means "at once", which
	// is how a DELETE lands mid-creation.
	pauses []time.Duration
}

// update is one PATCH: new read regions, or a new plan.
type update struct {
	readRegions []string // nil: unchanged
	plan        string   // "": unchanged
}

// newExtension draws extension i's request and script.
func newExtension(i int, seed int64, cfg Config, spread time.Duration) *extension {
	rng := rand.New(rand.NewPCG(uint64(seed), uint64(i)))
	e := &extension{
		ID:   fmt.Sprintf("chaos-%04d", i),
		Name: fmt.Sprintf("chaos-db-%04d", i),
		Org:  fmt.Sprintf("chaos-org-%d", rng.IntN(orgs)),
	}
	picks := rng.Perm(len(regions))
	e.Primary = regions[picks[0]]
	for _, p := range picks[1 : 1+rng.IntN(4)] {
		e.ReadRegions = append(e.ReadRegions, regions[p])
	}
	if rng.Float64() < 0.2 {
		e.Plan = altPlan
	}
	s := &e.script
	if spread > 0 {
		s.startAfter = time.Duration(rng.Int64N(int64(spread)))
	}
	s.duplicate = rng.Float64() < 0.2
	if rng.Float64() < cfg.UpdateFraction {
		regs, plan := slices.Clone(e.ReadRegions), e.Plan
		for range 1 + rng.IntN(2) {
			var u update
			regs, plan, u = nextUpdate(rng, e.Primary, regs, plan)
			s.updates = append(s.updates, u)
		}
	}
	s.delete = rng.Float64() < cfg.DeleteFraction
	for range len(s.updates) + 2 {
		var p time.Duration
		if rng.Float64() < 0.7 {
			p = time.Duration(rng.Int64N(int64(2 * time.Second)))
		}
		s.pauses = append(s.pauses, p)
	}
	return e
}

// nextUpdate draws a read region added or removed, or a plan change.
func nextUpdate(rng *rand.Rand, primary string, regs []string, plan string) ([]string, string, update) {
	switch k := rng.IntN(3); {
	case k == 0 && len(regs) < 3:
		for _, p := range rng.Perm(len(regions)) {
			if r := regions[p]; r != primary && !slices.Contains(regs, r) {
				regs = append(slices.Clone(regs), r)
				break
			}
		}
		return regs, plan, update{readRegions: nonNil(regs)}
	case k <= 1 && len(regs) > 0:
		drop := rng.IntN(len(regs))
		regs = slices.Delete(slices.Clone(regs), drop, drop+1)
		return regs, plan, update{readRegions: nonNil(regs)}
	default:
		next := altPlan
		if plan == altPlan {
			next = defaultPlanName
		}
		return regs, next, update{plan: next}
	}
}

// defaultPlanName is the name of the sample default plan devstack installs.
const defaultPlanName = "starter"

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
