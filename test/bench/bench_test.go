// Package bench smoke-tests `make bench` at tiny sizes: that every figure
// it knows how to measure is measured on a real stack and lands in the
// table and the JSON. It asserts nothing about the figures themselves: a
// benchmark never fails on one, and timings at these sizes mean nothing.
package bench

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jetway-dev/jetway/internal/dev/bench"
)

func TestBenchSmoke(t *testing.T) {
	assets := os.Getenv("KUBEBUILDER_ASSETS")
	if assets == "" {
		t.Fatal("KUBEBUILDER_ASSETS is not set: run `make test`, which builds the control plane and sets it")
	}
	bin := os.Getenv("JETWAY_BIN")
	if bin == "" {
		bin = filepath.Join(t.TempDir(), "jetway")
		if out, err := exec.Command("go", "build", "-o", bin, "../../cmd/jetway").CombinedOutput(); err != nil {
			t.Fatalf("build jetway: %v\n%s", err, out)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var progress strings.Builder
	res, err := bench.Run(ctx, bench.Config{
		Assets: assets, ManagerBin: bin, Dir: t.TempDir(), Progress: &progress,
		Scale: 0.02, BootTime: 300 * time.Millisecond, P1Rate: 40,
		P5Sample: time.Second, P6Resync: 2 * time.Second, P6Resyncs: 2,
	})
	if err != nil {
		t.Fatalf("bench: %v\n%s", err, progress.String())
	}
	var table strings.Builder
	res.WriteTable(&table)
	t.Log("\n" + table.String())

	measured := map[string]bool{"P1": true, "P2": true, "P4": true, "P5": true, "P6": true, "P7": true, "P8": true, "P8g": true, "P9": true, "P10": true}
	seen := map[string]bool{}
	for _, f := range res.Figures {
		seen[f.ID] = true
		if !measured[f.ID] {
			continue
		}
		if f.Err != "" {
			t.Errorf("%s was not measured: %s\n%s", f.ID, f.Err, progress.String())
		}
		if f.Value <= 0 || (f.Floor <= 0 && f.Unit != "KiB") {
			t.Errorf("%s: value %v, floor %v: both must be measured", f.ID, f.Value, f.Floor)
		}
	}
	for id := range measured {
		if !seen[id] {
			t.Errorf("%s is missing from the table", id)
		}
	}
	path := filepath.Join(t.TempDir(), "results.json")
	if err := res.WriteJSON(path); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var back bench.Results
	if err := json.Unmarshal(raw, &back); err != nil || len(back.Figures) != len(res.Figures) {
		t.Errorf("the JSON does not hold the table: %v\n%s", err, raw)
	}
}
