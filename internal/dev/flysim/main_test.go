package flysim

import (
	"flag"
	"os"
	"testing"
)

// waitingParallelism is how many tests run at once unless -parallel says
// otherwise. The tests spend most of their time waiting out Fly's rate
// limits, not on CPU, so the default (GOMAXPROCS, 2 on small CI machines)
// would serialise the waiting for nothing.
const waitingParallelism = "8"

func TestMain(m *testing.M) {
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
