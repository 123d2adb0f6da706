package extension

import (
	"context"
	"fmt"
	"strings"

	"k8s.io/utils/ptr"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
	"github.com/jetway-dev/jetway/controllers/internal/extstatus"
	"github.com/jetway-dev/jetway/internal/domain"
)

// envOptionsRevision tells machines which secret options they run with;
// a new revision changes their config, so they restart onto the secrets.
const envOptionsRevision = "JETWAY_OPTIONS_REVISION"

// optionSecretPrefix starts every app secret an option becomes.
var optionSecretPrefix = domain.OptionEnvName("")

// ensureOptionSecrets sets the extension's secret options as Fly app
// secrets when their revision moved, and unsets the ones removed. It costs
// no Fly call while the revision stands.
func (r *Reconciler) ensureOptionSecrets(ctx context.Context, ext *jetwayv1.Extension) error {
	want := ext.Annotations[jetwayv1.AnnotationSecretOptionsRevision]
	if want == "" || want == ptr.Deref(ext.Status.SecretOptionsRevision, "") {
		return nil
	}
	opts, err := domain.ReadSecretOptions(ctx, r.APIReader, ext)
	if err != nil {
		return err
	}
	values := map[string]string{}
	for name, v := range opts {
		values[domain.OptionEnvName(name)] = domain.OptionValue(v)
	}
	app := ext.Status.AppName
	set, err := r.Fly.Secrets(ctx, app)
	if err != nil {
		return fmt.Errorf("list secrets of %s: %w", app, err)
	}
	var stale []string
	for _, s := range set {
		if _, keep := values[s.Name]; strings.HasPrefix(s.Name, optionSecretPrefix) && !keep {
			stale = append(stale, s.Name)
		}
	}
	if len(values) > 0 {
		if err := r.Fly.SetSecrets(ctx, app, values); err != nil {
			extstatus.MarkFalse(ext, jetwayv1.ConditionAppReady, reasonFor(err), "Setting secret options on Fly app %s failed: %v", app, err)
			return fmt.Errorf("set secret options of %s: %w", app, err)
		}
	}
	if err := r.Fly.UnsetSecrets(ctx, app, stale...); err != nil {
		return fmt.Errorf("unset removed secret options of %s: %w", app, err)
	}
	ext.Status.SecretOptionsRevision = &want
	return nil
}

// optionsEnv is what a plan with an options schema gives every machine:
// each of the extension's options (but the secret ones, which are app
// secrets) as JETWAY_OPTION_<NAME>, and the revision of the secret ones.
// A plan without a schema adds nothing, so options never restart machines
// of plans that do not use them.
func optionsEnv(ext *jetwayv1.Extension, plan *jetwayv1.ExtensionPlan, env map[string]string) {
	if plan.Spec.OptionsSchema == nil && len(plan.Spec.SecretOptions) == 0 {
		return
	}
	if plan.Spec.OptionsSchema != nil && ext.Spec.Options != nil {
		if opts, err := domain.ParseOptions(ext.Spec.Options.Raw); err == nil {
			public, _ := opts.Split(plan)
			for name, v := range public {
				env[domain.OptionEnvName(name)] = domain.OptionValue(v)
			}
		}
	}
	if rev := ptr.Deref(ext.Status.SecretOptionsRevision, ""); rev != "" {
		env[envOptionsRevision] = rev
	}
}
