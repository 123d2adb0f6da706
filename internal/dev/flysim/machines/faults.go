package machines

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
)

// Faults makes the simulator fail the ways Fly does, at random but
// reproducibly: the same Seed and the same sequence of requests give the
// same faults. Every rate is a probability in [0, 1]; zero turns that
// fault off. Rate limits are not a fault: they are always on.
type Faults struct {
	// Seed seeds every fault's dice. 0 picks one from the clock; Faults()
	// then reports the one picked, so a failing run can be replayed.
	Seed int64
	// LatencyP50 and LatencyP95 give each request a log-normal latency with
	// this median and 95th percentile. Both zero means none. It adds to
	// Options.Latency, the fixed delay.
	LatencyP50 time.Duration
	LatencyP95 time.Duration
	// ServerErrorRate answers 500, 502 or 503 without acting. fly-go retries
	// 502 and 503 itself (up to three times), so callers see fewer of them
	// than the server sends.
	ServerErrorRate float64
	// HangRate holds a request without acting until the client gives up,
	// the server closes, or HangFor passes; then it answers 504.
	HangRate float64
	// HangFor bounds a hang. 0 means 65s, past the 60s after which Fly's
	// proxy would have cut the request, so a client without its own timeout
	// waits that long.
	HangFor time.Duration
	// LostResponseRate commits a machine create, machine destroy, app
	// create, app delete, IP assignment, volume create, volume delete or
	// volume snapshot and then loses the answer: the
	// connection is closed without a response (or, where it cannot be
	// hijacked, a 502 is sent). The caller cannot tell whether anything
	// happened; it must look.
	LostResponseRate float64
	// CapacityErrorRate makes machine create, update and start, and volume
	// create, fail placement, without acting, with one of the capacity
	// errors Fly sends (412, 409, 403 or 400; the codes also have other
	// meanings on Fly; a volume create gets 400 "no capacity").
	CapacityErrorRate float64
	// CrashRate is the chance, each time a machine reaches started, that
	// its main process dies 0.5–3×BootTime later, leaving it "failed" with
	// an "exit" event that says why.
	CrashRate float64
	// AbandonedActRate is the chance that a committing request (machine
	// create or destroy, app create or delete, IP assignment, volume create
	// or delete, volume snapshot) that hung and
	// whose caller went away meanwhile (a client timeout, a killed process)
	// is carried out all the same, when the hang would have ended. Nobody
	// hears the answer. Fly makes no promise that a call its caller gave up
	// on is not carried out: a create can land after its caller's
	// successor has looked and found nothing.
	AbandonedActRate float64
	// DuplicateEventRate is the chance that a machine event sent to the
	// provider is delivered twice, with the same ce-id, as an at-least-once
	// sender does. It is the event sender's fault, not the Machines API's:
	// this package only validates and reports it, and flysim hands it to
	// flysim/events together with Seed.
	DuplicateEventRate float64
}

const defaultHangFor = 65 * time.Second

// Validate reports the first thing wrong with f.
func (f Faults) Validate() error {
	rates := []struct {
		name string
		v    float64
	}{
		{"server_error_rate", f.ServerErrorRate},
		{"hang_rate", f.HangRate},
		{"lost_response_rate", f.LostResponseRate},
		{"capacity_error_rate", f.CapacityErrorRate},
		{"crash_rate", f.CrashRate},
		{"duplicate_event_rate", f.DuplicateEventRate},
		{"abandoned_act_rate", f.AbandonedActRate},
	}
	for _, r := range rates {
		if !(r.v >= 0 && r.v <= 1) { // also catches NaN
			return fmt.Errorf("%s %v is not a probability in [0, 1]", r.name, r.v)
		}
	}
	switch {
	case f.LatencyP50 < 0 || f.LatencyP95 < 0:
		return errors.New("latency_p50 and latency_p95 must not be negative")
	case (f.LatencyP50 == 0) != (f.LatencyP95 == 0):
		return errors.New("set both latency_p50 and latency_p95, or neither")
	case f.LatencyP95 < f.LatencyP50:
		return fmt.Errorf("latency_p95 %s is below latency_p50 %s", f.LatencyP95, f.LatencyP50)
	case f.HangFor < 0:
		return errors.New("hang_for must not be negative")
	}
	return nil
}

// withDefaults fills what zero means, so Faults() shows what is in force.
func (f Faults) withDefaults() Faults {
	if f.HangFor == 0 {
		f.HangFor = defaultHangFor
	}
	if f.Seed == 0 {
		// Kept below 2^53 so the seed survives a trip through JSON tools
		// that read numbers as doubles.
		f.Seed = time.Now().UnixNano()%(1<<53) | 1
	}
	return f
}

// faultState is the faults in force and their dice. Each kind of decision
// draws from its own stream, so how often one fault is consulted (which
// depends on timing and on which requests pass validation) does not shift
// which requests another fault hits. Stream 5 is the event sender's
// duplicates (flysim/events), drawn there from the same seed.
type faultState struct {
	cfg      Faults
	request  *rand.Rand // hangs, server errors, lost responses
	capacity *rand.Rand
	crash    *rand.Rand
	latency  *rand.Rand
	abandon  *rand.Rand // abandoned hung requests carried out
}

func newFaultState(f Faults) faultState {
	seed := uint64(f.Seed)
	stream := func(n uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, n)) }
	return faultState{cfg: f, request: stream(1), capacity: stream(2), crash: stream(3), latency: stream(4), abandon: stream(6)}
}

// SetFaults replaces the faults in force, effective for the next request
// (and the next machine start), and restarts the dice from f.Seed. It
// panics if f is invalid (see Validate): that is a bug in the caller.
func (s *Server) SetFaults(f Faults) {
	if err := f.Validate(); err != nil {
		panic("flysim: invalid faults: " + err.Error())
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = newFaultState(f.withDefaults())
}

// Faults returns the faults in force, with the seed and hang time actually
// used.
func (s *Server) Faults() Faults {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.faults.cfg
}

// latencyLocked draws this request's delay: the fixed one plus the
// log-normal one.
func (s *Server) latencyLocked() time.Duration {
	f := &s.faults
	return s.opts.Latency + lognormal(f.latency, f.cfg.LatencyP50, f.cfg.LatencyP95)
}
