// Package bench measures Jetway's performance figures (issue 13's P1–P8,
// P9 for billing, P10 for volumes) and, beside each, the floor that the
// parts underneath allow, measured in the same run on the same machine: so
// a figure reads as "how much slower than it has to be", not as an
// absolute time that only holds on one box.
//
// Every figure runs against a stack of its own, started here: a real
// kube-apiserver and etcd (devstack), flysim over real HTTP, and the real
// manager binary as a child process (devstack.ManagerProcess). Nothing may
// be running beforehand. Run prints one table (figure, value, floor,
// ratio, goal) and writes it as JSON for comparing runs.
//
// It is a benchmark, not a test: it never fails on a figure. A goal that is
// not met is shown as such in the table.
package bench
