package chaos

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jetway-dev/jetway/internal/dev/chaos"
	"github.com/jetway-dev/jetway/internal/dev/testbin"
)

// TestChaosConverges is the small chaos run: 50 extensions provisioned,
// updated and deleted through the gateway while the manager is SIGKILLed
// at random points and flysim injects Fly's failures; then every invariant
// must hold. `make chaos` is the same with 1,000+ crash points.
func TestChaosConverges(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	began := time.Now()
	rep, err := chaos.Run(ctx, chaos.Config{
		Assets:     testbin.Assets(t),
		JetwayBin:  testbin.Jetway(t),
		Dir:        dir,
		Extensions: 50,
		Restarts:   15,
		Wedges:     2,
		// A fixed seed keeps the workload and faults the same run to run;
		// timing still varies, which is the point.
		Seed:            1,
		ConvergeTimeout: 3 * time.Minute,
		Progress:        testWriter{t},
	})
	t.Logf("chaos run took %s", time.Since(began).Round(time.Second))
	if rep != nil {
		t.Logf("report:\n%s", rep.Table())
	}
	if err != nil {
		t.Logf("last lines of the manager log:\n%s", testbin.LogTail(filepath.Join(dir, "manager.log"), 60))
		t.Fatal(err)
	}
	if rep.CrashPoints < 5 || rep.Provisioned < 50 || rep.WedgedReplicas < 1 {
		t.Fatalf("the run was too small to mean anything: %d crash points, %d extensions provisioned, %d replicas wedged",
			rep.CrashPoints, rep.Provisioned, rep.WedgedReplicas)
	}
	if rep.Billing.MachineDays < rep.Provisioned || rep.Billing.PublishedDays < 1 {
		t.Fatalf("the billing check compared too little to mean anything: %d machine-days for %d extensions, %d published days",
			rep.Billing.MachineDays, rep.Provisioned, rep.Billing.PublishedDays)
	}
	// Every machine of the run has a volume: at least a volume-day per
	// extension, as for machines.
	if v := rep.Billing.Volumes; v.Days < rep.Provisioned || v.Made < rep.Provisioned || v.ExistedGBHours <= 0 {
		t.Fatalf("the volume checks compared too little to mean anything: %d volume-days, %d volumes made for %d extensions, %.3f GB-hours",
			v.Days, v.Made, rep.Provisioned, v.ExistedGBHours)
	}
}

// testWriter sends progress lines to the test log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
