// Package flysim is an in-memory stand-in for Fly.io's Machines API (the
// "flaps" API that fly-go's flaps.Client talks to).
//
// It exists so controllers can be tested against something that behaves like
// Fly rather than like the controllers hope Fly behaves: the wire format is
// fly-go v0.2.2's, state changes happen asynchronously on timers (a created
// machine is not started when the create call returns), leases block
// mutations, and where Fly's behaviour is unknown the simulator errs on the
// strict side so that sloppy callers fail here rather than in production.
//
// It also fails like Fly. Fly's rate limits are always on (429 with
// Retry-After; there is no switch, because Fly has none), and Faults inject
// the rest of Fly's failure modes at chosen rates, reproducibly from a seed:
// skewed latency, 5xx answers, hung requests, changes whose response is lost,
// capacity errors and machines that crash after starting. Faults can be
// changed while running, in process (SetFaults) or over HTTP under
// /flysim/v1/, where Stats are served too.
//
// Endpoints that fly-go can call but the simulator does not model (exec, ps,
// signal, volumes, secret keys, placements) answer 501 or 404 instead of
// pretending to succeed.
package flysim
