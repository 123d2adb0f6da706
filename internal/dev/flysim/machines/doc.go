// Package machines is an in-memory stand-in for Fly.io's Machines API (the
// "flaps" API that fly-go's flaps.Client talks to): apps, machines and
// their lifecycle, leases, IP assignments, secrets, volumes and their
// snapshots, regions, and what Fly's proxy does to idle machines (autostop
// and autostart).
//
// Sources. The wire format is fly-go v0.2.2's (flaps.App, fly.Machine,
// fly.LaunchMachineInput, fly.MachineEvent, flaps.IPAssignment, fly.Volume,
// fly.VolumeSnapshot, ...), and
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
// Volumes (volumes.go, volume_handlers.go, mounts.go, snapshots.go) follow
// Fly's volume docs: one region and zone each, at most one machine per
// volume and one volume per machine (config.mounts), in the volume's
// region; bound to the machine until it is destroyed, so deleting a volume
// a machine still has, stopped or not, is refused with Fly's words;
// extend only grows; snapshots on demand, kept snapshot_retention days
// (1–60, default 5) after their volume is gone, and restorable into a new
// volume at least as big. An app's deletion destroys its volumes.
// SetVolumeCapacity fills a region, which answers Fly's capacity bodies:
// 400 {"error":"no capacity"} to a volume create and 412 "insufficient
// resources to create new machine with existing volume" to a machine
// create with a volume there. Where Fly's behaviour is undocumented flysim
// is stricter: it requires name and size_gb on create (flyctl fills
// defaults), enforces flyctl's name rule (30 of [a-z0-9_]), takes
// require_unique_zone as true unless told otherwise, over 3 zones per
// region, restores a snapshot only in its own app and region, says
// needs_restart whenever the mounting machine is up, mounts only by volume
// id, and takes no daily snapshots (auto_backup_enabled is only recorded).
// The inspection helpers say which snapshot a volume was restored from
// (VolumeInfo.RestoredFrom), which Fly's volume JSON does not.
//
// Health checks (checks.go, check_failures.go): a machine's "checks" (fly-go
// Machine.Checks, the spec's CheckStatus) report each check of its config,
// named as Fly names them: a service check servicecheck-NN-TYPE-PORT, NN its
// two-digit index among its own service's checks and PORT its port or else
// the service's internal_port (servicecheck-00-tcp-5432; two services can
// each have a servicecheck-00, as Fly's answers show), a top-level check by
// its key; checks whose names coincide are reported once, as Fly reports
// identical service checks of two services. fly-go's TopLevelChecks tells the
// two kinds apart by that prefix. Nothing is probed, as the simulator runs
// no process: each start of the machine begins a new run in which a check
// is not listed for the first half of its grace_period (Fly's list is empty
// for a freshly started machine: flyctl#4952 counts checks from the config
// for that reason, so a client reading an empty list as "all passing" is
// caught here), critical with an output saying so for the second half
// (Fly's statuses are Consul's, fly-go's ConsulCheckStatus, and Consul
// registers a check critical), then passing: "Success" for tcp, "HTTP GET
// http://[ip]:port/path: 200 OK" for http. An unset grace_period is 1s: Fly
// documents no default, and flyctl's deploy wait takes 1s as the shortest
// grace period unless a check sets less (GetMinIntervalAndMinGracePeriod);
// it is short so that tests do not wait, and not zero so that no fresh
// machine is healthy at once. A machine that never started lists
// no checks; one that started and is now in any other state (stopping,
// stopped, replacing, failed, destroyed...) lists every check critical,
// "machine is stopped: ...", where Fly may show a stale result for a while:
// flysim never shows a passing check on a machine that is not started.
// updated_at is the server clock's (Options.Now) when a check's status or
// output last changed (Fly's may also move with every run); the grace
// period runs on the real clock, like every simulator timer. Check failures
// (SetCheckFailures, PUT /flysim/v1/check-failures) fail the checks of every
// machine on a given image, the realistic case of a bad image, or of given
// machines: past the grace period they report critical with the outputs of
// Fly's checkers, "dial tcp [ip]:port: connect: connection refused" or
// "HTTP GET ...: 500 Internal Server Error", while the machine stays started
// and /wait?state=started is unaffected. They take effect, and heal, at
// once: check intervals are not modelled. flysim refuses, where Fly's
// behaviour is undocumented, a check without type tcp or http, a port out
// of range, a path without a leading /, negative durations and a top-level
// check without a port.
//
// Endpoints that fly-go can call but the simulator does not model (exec, ps,
// signal, secret keys, placements; forking a volume with source_volume_id)
// answer 501 or 404 instead of pretending to succeed.
//
// Every machine state change is reported to Options.OnChange; flysim turns
// those into the machine events of flysim/events.
//
// Event history is capped. A machine's events (the "events" of GET machine
// and list machines, and GET .../events) are only its newest
// Options.EventHistory, default 10, newest first; older ones roll off for
// good, and the simulator does not keep them either, so memory per machine
// is bounded. Fly does not document how many events it keeps, and its API
// spec has no paging for them; flyctl's `machine status` shows only recent
// ones, as "Event Logs" (a flyctl change to show a machine's whole
// history, superfly/flyctl#3645, went to GraphQL for it rather than the
// Machines API). 10 is chosen small, likely stricter than Fly, so that a
// client metering from events has to read them often enough and detect
// when some rolled off (the oldest event it sees is newer than the newest
// it saw the time before).
//
// The state log is the truth for billing. Apart from the events and
// uncapped, every machine has a log of every state it entered and when (by
// Options.Now), from "created" on, appended by setStateLocked and kept
// after the machine is destroyed and after its app is deleted.
// RunningTime(id, from, to) sums its time in "started" within a window,
// StateHistory returns the log, AllMachineIDs lists every machine ever
// created. Each change into or out of "started" records its event at the
// same moment (the same Options.Now reading with a settable clock,
// microseconds apart with the real one; event timestamps are whole
// milliseconds), so a client that read every event in time computes the
// same running time to within a millisecond per start and stop, and one
// that let events roll off unread does not.
//
// Volumes have a truth log of their own (volume_usage.go): the size at
// creation, each extend and the destroy (a DELETE accepted, or the app
// deleted), by Options.Now. Fly's list forgets a destroyed volume;
// VolumeTime(id, from, to) says how long it existed at each size, and
// VolumeHistory returns the log.
package machines
