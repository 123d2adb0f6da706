// Package failover drives leader handovers between manager processes run
// side by side (devstack.Replicas): stop the leader, SIGKILL or SIGTERM,
// make a spec change, time how long until another process has reconciled
// it, and start the stopped one again as its pod would be. Signed traffic
// meanwhile goes to every gateway the way a Service routes it. make bench's
// P8 and the failover test in make test both run it.
package failover
