// Package flysimtest holds what the tests of flysim and its simulators
// share: real fly-go clients pointed at a test server, a settable clock,
// raw HTTP calls, and a provider's machine-events endpoint that checks
// every event it receives. It is imported by tests only.
package flysimtest

import (
	"flag"
	"os"
	"testing"
)

// Token and Org are what the test servers are configured with.
const (
	Token = "sim-test-token"
	Org   = "jetway-test"
)

// waitingParallelism is how many tests run at once unless -parallel says
// otherwise. The tests spend most of their time waiting out Fly's rate
// limits, not on CPU, so the default (GOMAXPROCS, 2 on small CI machines)
// would serialise the waiting for nothing.
const waitingParallelism = "8"

// Main is TestMain for packages whose tests wait on Fly's rate limits.
func Main(m *testing.M) {
	flag.Parse()
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == "test.parallel" })
	if !set {
		if err := flag.Set("test.parallel", waitingParallelism); err != nil {
			panic(err)
		}
	}
	os.Exit(m.Run())
}
