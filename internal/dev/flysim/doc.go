// Package flysim is the Fly.io stand-in the harness runs against: one
// http.Handler that mounts four simulators on one mux, each in its own
// package with a doc naming what it reproduces and from which source.
//
//	/v1/...                              machines: the Machines API (flaps)
//	/oauth/...                           oauth: Fly's OAuth server, for SSO
//	/api/hooks/extensions/{provider}     hooks: Fly's incoming extension webhooks
//	(outbound, to Options.EventsURL)     events: the CloudEvents machine events
//	/flysim/v1/...                       the control API: faults, stats, webhooks, events,
//	                                     volume capacity, check failures
//
// This package only composes them: it routes requests, stamps every
// response with a fly-request-id as Fly's edge does, turns each machine
// state change into a machine event, hands the event sender its share of
// the faults (DuplicateEventRate), and guards the whole control API with the
// Machines API token. Its exported API forwards to the simulators, so
// callers configure and inspect one Server.
//
// The control API is not Fly: no latency, rate limits or faults apply, and
// its requests are not counted in Stats. It lets tools outside the process
// (a load generator, a chaos script, the flysim command's operator) change
// faults and read counters while the simulator runs.
package flysim
