package extension

import (
	"context"
	"errors"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
	"github.com/jetway-dev/jetway/controllers/internal/extstatus"
	"github.com/jetway-dev/jetway/internal/domain"
)

// dependencies are the Kubernetes-side inputs of a pass.
type dependencies struct {
	plan  *jetwayv1.ExtensionPlan
	creds domain.Credentials
	// appIsNew says this pass created the Fly app: it holds no secrets,
	// machines or IPs yet, so the steps after it need not list them.
	appIsNew bool
}

// loadDependencies resolves the plan and the credentials. A missing plan is
// terminal (an operator must create it or fix the Extension); a new
// ExtensionPlan does not trigger a pass, so the resync picks it up.
func (r *Reconciler) loadDependencies(ctx context.Context, ext *jetwayv1.Extension) (*dependencies, error) {
	plan, err := domain.ResolvePlan(ctx, r.Client, ext.Spec.Plan)
	if err != nil {
		if errors.Is(err, domain.ErrPlanNotFound) {
			extstatus.MarkFalse(ext, jetwayv1.ConditionAppReady, jetwayv1.ReasonPlanNotFound, "%s", err.Error())
			return nil, newTerminal(jetwayv1.ReasonPlanNotFound, "The extension's plan does not exist: %v", err)
		}
		return nil, err
	}
	creds, err := domain.EnsureCredentials(ctx, r.Client, r.APIReader, r.Scheme, ext, domain.DefaultUsername(plan, ext))
	if err != nil {
		return nil, err
	}
	ext.Status.CredentialsSecret = credentialsSecretName(ext)
	return &dependencies{plan: plan, creds: creds}, nil
}
