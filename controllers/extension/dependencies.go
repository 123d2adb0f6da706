package extension

import (
	"context"
	"errors"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
	"github.com/jetway-dev/jetway/controllers/internal/extstatus"
	"github.com/jetway-dev/jetway/internal/domain"
	"github.com/jetway-dev/jetway/internal/fly"
)

// dependencies are the Kubernetes-side inputs of a pass.
type dependencies struct {
	plan *jetwayv1.ExtensionPlan
	// creds are loaded by reconcileApp, in full checks only.
	creds domain.Credentials
	// appIsNew says this pass created the Fly app: it holds no secrets,
	// machines or IPs yet, so the steps after it need not list them.
	appIsNew bool
	// extrasChecked says this pass has looked for extra volumes already
	// (volume_extras.go).
	extrasChecked bool
	// checkedVolumes is the app's live volumes as the look for extras
	// left them, for the meter to reuse instead of listing again; nil
	// when this pass did not look.
	checkedVolumes []fly.Volume
	// rotation is where a credential rotation is, for the step after the
	// machines; nil when none is asked for or under way.
	rotation *rotationState
}

// loadDependencies resolves the plan. A missing plan is terminal (an
// operator must create it or fix the Extension); a new ExtensionPlan does
// not trigger a pass, so the resync picks it up.
func (r *Reconciler) loadDependencies(ctx context.Context, ext *jetwayv1.Extension) (*dependencies, error) {
	plan, err := domain.ResolvePlan(ctx, r.Client, ext.Spec.Plan)
	if err != nil {
		if errors.Is(err, domain.ErrPlanNotFound) {
			extstatus.MarkFalse(ext, jetwayv1.ConditionAppReady, jetwayv1.ReasonPlanNotFound, "%s", err.Error())
			return nil, newTerminal(jetwayv1.ReasonPlanNotFound, "The extension's plan does not exist: %v", err)
		}
		return nil, err
	}
	ext.Status.CredentialsSecret = credentialsSecretName(ext)
	return &dependencies{plan: plan}, nil
}

// loadCredentials reads the extension's credentials, making their Secret
// the first time. Only a full check needs them (they go into the app's
// secrets), so a look costs no read of the Secret.
//
// An Extension applied by GitOps may sit in a namespace Jetway did not
// make, where it may not touch Secrets yet: refused, it binds itself there
// (a namespace holding an Extension is one Jetway manages) and tries once
// more.
func (r *Reconciler) loadCredentials(ctx context.Context, ext *jetwayv1.Extension, deps *dependencies) error {
	var creds domain.Credentials
	err := r.Settings.Domain.Access.RetryForbidden(ctx, r.Client, r.APIReader, FieldOwner, ext.Namespace, func() (err error) {
		creds, err = domain.EnsureCredentials(ctx, r.Client, r.APIReader, r.Scheme, ext, domain.DefaultUsername(deps.plan, ext))
		return err
	})
	if err != nil {
		return err
	}
	deps.creds = creds
	return nil
}
