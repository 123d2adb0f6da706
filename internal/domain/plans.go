// Provisioning holds what the gateway and the controllers share about
// an extension's provisioning: which plan applies, its generated credentials,
// and the config Fly sets on the customer's app.

package domain

import (
	"context"
	"errors"
	"fmt"
	"sort"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
)

// ErrPlanNotFound means the named plan, or a default plan, does not exist.
var ErrPlanNotFound = errors.New("plan not found")

// ResolvePlan returns the plan called name, or the default plan when name is
// empty. With several plans marked default the alphabetically first wins, so
// the answer never depends on list order.
func ResolvePlan(ctx context.Context, r client.Reader, name string) (*jetwayv1.ExtensionPlan, error) {
	if name != "" {
		plan := &jetwayv1.ExtensionPlan{}
		if err := r.Get(ctx, client.ObjectKey{Name: name}, plan); err != nil {
			if apierrors.IsNotFound(err) {
				return nil, fmt.Errorf("%w: %q", ErrPlanNotFound, name)
			}
			return nil, fmt.Errorf("get plan %q: %w", name, err)
		}
		return plan, nil
	}
	var plans jetwayv1.ExtensionPlanList
	if err := r.List(ctx, &plans); err != nil {
		return nil, fmt.Errorf("list plans: %w", err)
	}
	var defaults []jetwayv1.ExtensionPlan
	for _, p := range plans.Items {
		if p.Spec.Default {
			defaults = append(defaults, p)
		}
	}
	if len(defaults) == 0 {
		return nil, fmt.Errorf("%w: no plan is marked default", ErrPlanNotFound)
	}
	sort.Slice(defaults, func(i, j int) bool { return defaults[i].Name < defaults[j].Name })
	return &defaults[0], nil
}
