package bench

import (
	"context"
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
)

// volumePlan is the plan P10 provisions on: the default plan with storage,
// so that the only difference from P2 is each machine's volume.
const volumePlan = "bench-volumes"

// criticalCallsWithVolume are P2's critical calls plus the one a volume
// adds: its create, which must return before the machine that mounts it
// can be created (the machine names the volume by its id). Counted one
// after another, as a caller making the same calls directly would; one
// that sent the volume create beside the secrets could save one latency.
const criticalCallsWithVolume = criticalCalls + 1

// measureReadyWithVolumes runs P10: POST to Ready for extensions whose
// machine gets a Fly volume, provisioned at P2Rate like P2, beside the
// same floor plus the volume create.
func measureReadyWithVolumes(ctx context.Context, cfg Config) Result {
	r := Result{ID: "P10", Figure: "POST to Ready with a volume per machine, p99", Unit: "ms", Goal: "≤ 1.2× floor"}
	s, err := startStack(ctx, cfg, "p10", stackOptions{prepare: installVolumePlan})
	if err != nil {
		r.Err = err.Error()
		return r
	}
	defer s.close()
	n := cfg.scaled(cfg.P10Extensions, 2)
	fmt.Fprintf(cfg.Progress, "bench: P10: provisioning %d extensions with volumes at %.1f/s\n", n, cfg.P2Rate)
	timeout := time.Duration(float64(n)/cfg.P2Rate*float64(time.Second)) + 2*time.Minute
	exts, err := provisionAndWatch(ctx, s, "p10", volumePlan, n, cfg.P2Rate, timeout, cfg.Progress)
	if err != nil {
		r.Err = err.Error()
		return r
	}
	// A figure for volumes must have made them: one per machine, mounted.
	mounted := 0
	for _, v := range s.sim.AllVolumes() {
		if v.State == "created" && v.AttachedMachine != "" {
			mounted++
		}
	}
	if mounted != n {
		r.Err = fmt.Sprintf("%d extensions Ready but %d volumes mounted, want one each", n, mounted)
		return r
	}

	var toReady []time.Duration
	for _, e := range exts {
		toReady = append(toReady, e.readyAt.Sub(e.postAt))
	}
	grace, err := checkGrace(ctx, s.k8s, volumePlan)
	if err != nil {
		r.Err = err.Error()
		return r
	}
	floor := criticalCallsWithVolume*cfg.FlyLatency + cfg.BootTime + grace
	r.Value, r.Floor = percentile(toReady, 99), ms(floor)
	r.Ratio = ratio(r.Value, r.Floor)
	r.Met = r.Ratio > 0 && r.Ratio <= 1.2
	r.Detail = fmt.Sprintf("p50 %.0f ms, p99 %.0f ms over %d extensions posted at %.1f/s, each machine mounting a 1 GB volume of its own (%d mounted); floor = %d calls (P2's and the volume create) × %s flysim latency + %s boot + %s until the plan's checks first pass",
		percentile(toReady, 50), r.Value, n, cfg.P2Rate, mounted, criticalCallsWithVolume, cfg.FlyLatency, cfg.BootTime, grace)
	return r
}

// installVolumePlan writes volumePlan: a copy of the default plan, not
// itself the default, whose machines each get a 1 GB volume at /data.
func installVolumePlan(ctx context.Context, c client.Client) error {
	var plans jetwayv1.ExtensionPlanList
	if err := c.List(ctx, &plans); err != nil {
		return fmt.Errorf("list plans: %w", err)
	}
	for _, p := range plans.Items {
		if !p.Spec.Default {
			continue
		}
		plan := &jetwayv1.ExtensionPlan{ObjectMeta: metav1.ObjectMeta{Name: volumePlan}, Spec: *p.Spec.DeepCopy()}
		plan.Spec.Default = false
		plan.Spec.DisplayName = "Bench with volumes"
		plan.Spec.Storage = &jetwayv1.StorageSpec{SizeGB: 1, MountPath: "/data"}
		if err := c.Create(ctx, plan); err != nil {
			return fmt.Errorf("install plan %s: %w", volumePlan, err)
		}
		return nil
	}
	return fmt.Errorf("install plan %s: no default plan to copy", volumePlan)
}
