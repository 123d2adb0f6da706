package extension

import (
	"context"
	"errors"
	"fmt"

	"sigs.k8s.io/controller-runtime/pkg/log"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
	"github.com/jetway-dev/jetway/controllers/internal/extstatus"
	"github.com/jetway-dev/jetway/internal/domain"
	"github.com/jetway-dev/jetway/internal/fly"
)

func credentialsSecretName(ext *jetwayv1.Extension) string {
	return domain.CredentialsSecretName(ext.Name)
}

// reconcileApp makes sure the extension's Fly app exists, on its own
// network, and carries the credentials as app secrets.
func (r *Reconciler) reconcileApp(ctx context.Context, ext *jetwayv1.Extension, deps *dependencies) error {
	if err := r.loadCredentials(ctx, ext, deps); err != nil {
		return err
	}
	name := ext.Status.AppName
	_, err := r.Fly.GetApp(ctx, name)
	switch {
	case err == nil:
	case errors.Is(err, fly.ErrNotFound):
		fresh, err := r.createApp(ctx, ext, name)
		if err != nil {
			return err
		}
		deps.appIsNew = fresh
	default:
		extstatus.MarkFalse(ext, jetwayv1.ConditionAppReady, reasonFor(err), "Reading Fly app %s failed: %v", name, err)
		return fmt.Errorf("get app %s: %w", name, err)
	}
	if err := r.ensureAppSecrets(ctx, ext, deps); err != nil {
		extstatus.MarkFalse(ext, jetwayv1.ConditionAppReady, reasonFor(err), "Setting secrets on Fly app %s failed: %v", name, err)
		return err
	}
	extstatus.MarkTrue(ext, jetwayv1.ConditionAppReady, jetwayv1.ReasonAppCreated, "Fly app %s exists", name)
	return nil
}

// createApp creates the app; fresh says it was made now, and so holds
// nothing yet. When Fly says the name is taken, the app is adopted only if
// it provably belongs to this extension: it must be in our organization
// (GetApp answers, rather than 403) and hold no machine that is not this
// extension's.
func (r *Reconciler) createApp(ctx context.Context, ext *jetwayv1.Extension, name string) (fresh bool, err error) {
	_, err = r.Fly.CreateApp(ctx, name, networkName(name))
	if err == nil {
		log.FromContext(ctx).Info("Created Fly app", "app", name)
		r.Recorder.Eventf(ext, nil, "Normal", jetwayv1.ReasonAppCreated, "CreateApp", "Created Fly app %s", name)
		return true, nil
	}
	if !errors.Is(err, fly.ErrNameTaken) && !errors.Is(err, fly.ErrConflict) {
		if t, ok := asTerminal(err); ok {
			extstatus.MarkFalse(ext, jetwayv1.ConditionAppReady, t.reason, "%s", t.message)
			return false, t
		}
		extstatus.MarkFalse(ext, jetwayv1.ConditionAppReady, reasonFor(err), "Creating Fly app %s failed: %v", name, err)
		return false, fmt.Errorf("create app %s: %w", name, err)
	}
	if _, gerr := r.Fly.GetApp(ctx, name); gerr != nil {
		if errors.Is(gerr, fly.ErrUnauthorized) || errors.Is(gerr, fly.ErrNotFound) {
			t := newTerminal(jetwayv1.ReasonAppNameTaken, "Fly app name %s is taken by another organization", name)
			extstatus.MarkFalse(ext, jetwayv1.ConditionAppReady, t.reason, "%s", t.message)
			return false, t
		}
		return false, fmt.Errorf("get app %s after name_taken: %w", name, gerr)
	}
	all, lerr := r.Fly.ListMachines(ctx, name, nil)
	if lerr != nil {
		return false, fmt.Errorf("list machines of %s to prove ownership: %w", name, lerr)
	}
	if m := fly.ForeignMachine(all, ext.Spec.ID); m != nil {
		t := newTerminal(jetwayv1.ReasonAppNameTaken,
			"Fly app %s exists and runs machine %s that is not this extension's; refusing to adopt it", name, m.ID)
		extstatus.MarkFalse(ext, jetwayv1.ConditionAppReady, t.reason, "%s", t.message)
		return false, t
	}
	log.FromContext(ctx).Info("Adopted existing Fly app", "app", name)
	return false, nil
}

// networkName puts each app on its own private network, so one customer's
// machines cannot reach another's over 6PN.
func networkName(app string) string { return app }

// ensureAppSecrets sets the credentials as app secrets when they are not
// there yet. Credentials change only by rotation, which sets them itself
// (credentials_rotation.go), so presence is enough here.
func (r *Reconciler) ensureAppSecrets(ctx context.Context, ext *jetwayv1.Extension, deps *dependencies) error {
	if !deps.appIsNew {
		secrets, err := r.Fly.Secrets(ctx, ext.Status.AppName)
		if err != nil {
			return fmt.Errorf("list secrets of %s: %w", ext.Status.AppName, err)
		}
		if fly.HasCredentialSecrets(secrets) {
			return nil
		}
	}
	return r.Fly.SetSecrets(ctx, ext.Status.AppName, credentialSecrets(deps.creds))
}

// credentialSecrets are the app secrets credentials become: the previous
// password too while a rotation keeps it valid.
func credentialSecrets(creds domain.Credentials) map[string]string {
	out := map[string]string{fly.SecretUsername: creds.Username, fly.SecretPassword: creds.Password}
	if creds.Previous != "" {
		out[fly.SecretPreviousPassword] = creds.Previous
	}
	return out
}
