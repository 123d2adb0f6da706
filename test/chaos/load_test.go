package chaos

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jetway-dev/jetway/internal/dev/chaos"
	"github.com/jetway-dev/jetway/internal/dev/flysim"
	"github.com/jetway-dev/jetway/internal/dev/loadgen"
	"github.com/jetway-dev/jetway/internal/dev/testbin"
)

// TestGatewayLoad sends 200 signed mixed requests per second for five
// seconds to a gateway run as in production (its own process, a real API
// server, Fly without faults) and checks that it never answers 5xx and
// loses no accepted POST.
func TestGatewayLoad(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	s, err := chaos.StartStack(ctx, chaos.StackOptions{
		Assets: testbin.Assets(t), JetwayBin: testbin.Jetway(t), Dir: dir,
		Faults: flysim.Faults{}, BootTime: 300 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	rep, err := loadgen.Run(ctx, loadgen.Config{
		GatewayURL: s.Manager.GatewayURL(),
		Secret:     []byte(s.Manager.Secret),
		Rate:       200,
		Duration:   5 * time.Second,
		Seed:       1,
		Progress:   testWriter{t},
	})
	if rep != nil {
		var b strings.Builder
		rep.WriteTable(&b)
		t.Logf("load report:\n%s", b.String())
	}
	if err != nil {
		t.Logf("last lines of the manager log:\n%s", testbin.LogTail(filepath.Join(dir, "manager.log"), 40))
		t.Fatal(err)
	}
	// The rate a loaded 2-core machine reaches is reported, not asserted
	// (internal/loadgen's tests check the pacer itself).
	if rep.Sent != 1000 || rep.Accepted == 0 || rep.Verified == 0 {
		t.Fatalf("the run did not happen: %d sent, %d accepted, %d verified", rep.Sent, rep.Accepted, rep.Verified)
	}
}
