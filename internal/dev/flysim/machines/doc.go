// Package machines is an in-memory stand-in for Fly.io's Machines API (the
// "flaps" API that fly-go's flaps.Client talks to): apps, machines and
// their lifecycle, leases, IP assignments, secrets, regions, and what Fly's
// proxy does to idle machines (autostop and autostart).
//
// Sources. The wire format is fly-go v0.2.2's (flaps.App, fly.Machine,
// fly.LaunchMachineInput, fly.MachineEvent, flaps.IPAssignment, ...), and
// response shapes are checked against Fly's OpenAPI description,
// ../shared/spec/fly-machines-api-2024.swagger.json (copied to testdata/
// for the conformance test). Behaviour comes from Fly's docs as summarised
// in ../shared/research/fly-protocol.md §7: states and /wait (§7.4),
// leases and their nonce header (§7.5), IP assignments and Flycast (§7.6),
// rate limits (§7.7), latencies (§7.8) and error bodies (§7.9).
//
// It exists so controllers can be tested against something that behaves like
// Fly rather than like the controllers hope Fly behaves: state changes
// happen asynchronously on timers (a created machine is not started when the
// create call returns), leases block mutations, and where Fly's behaviour is
// unknown the simulator errs on the strict side so that sloppy callers fail
// here rather than in production.
//
// It also fails like Fly. Fly's rate limits are always on (429 with
// Retry-After; there is no switch, because Fly has none), and Faults inject
// the rest of Fly's failure modes at chosen rates, reproducibly from a seed:
// skewed latency, 5xx answers, hung requests, changes whose response is lost,
// capacity errors and machines that crash after starting. Faults can be
// changed while running (SetFaults); Stats count what was done.
//
// Endpoints that fly-go can call but the simulator does not model (exec, ps,
// signal, volumes, secret keys, placements) answer 501 or 404 instead of
// pretending to succeed.
//
// Every machine state change is reported to Options.OnChange; flysim turns
// those into the machine events of flysim/events.
package machines
