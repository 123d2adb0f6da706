package bench

import (
	"context"
	"fmt"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/jetway-dev/jetway/internal/dev/flysim"
	"github.com/jetway-dev/jetway/internal/domain"
)

// checkGrace is how long after a machine starts Fly first reports its
// checks passing: the longest grace period among the plan's checks (plan
// "" is the default plan). Ready means every check passing, so whoever
// provisions the extension waits this long after the boot, and it belongs
// in the floor. A check without a grace period gets flysim's default.
func checkGrace(ctx context.Context, c client.Client, planName string) (time.Duration, error) {
	plan, err := domain.ResolvePlan(ctx, c, planName)
	if err != nil {
		return 0, fmt.Errorf("read plan %q for its checks: %w", planName, err)
	}
	var grace time.Duration
	for _, s := range plan.Spec.Services {
		for _, ch := range s.Checks {
			g := flysim.DefaultCheckGracePeriod
			if ch.GracePeriod != nil {
				g = ch.GracePeriod.Duration
			}
			grace = max(grace, g)
		}
	}
	return grace, nil
}
