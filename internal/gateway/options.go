package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"strings"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
	"github.com/jetway-dev/jetway/internal/domain"
)

// checkOptions validates a POST's options against the plan's schema and
// takes the secret ones out of the spec into req.SecretOptions.
func checkOptions(req *provisionRequest, plan *jetwayv1.ExtensionPlan) error {
	if req.Options == nil && plan.Spec.OptionsSchema == nil {
		return nil
	}
	opts, err := domain.ParseOptions(req.Options)
	if err != nil {
		return invalid("Field %q must be a JSON object.", "options")
	}
	if err := validOptions(plan, opts); err != nil {
		return err
	}
	public, secret := opts.Split(plan)
	if len(secret) > 0 {
		req.SecretOptions = secret
		raw, _ := json.Marshal(map[string]json.RawMessage(public))
		req.Options = raw
	}
	return nil
}

// validOptions answers 422 invalid_options naming every field path that is
// wrong. A plan schema that cannot be read is Jetway's failure (503, and
// logged with the reason).
func validOptions(plan *jetwayv1.ExtensionPlan, opts domain.Options) error {
	problems, err := domain.ValidateOptions(plan, opts)
	if err != nil {
		return err
	}
	if len(problems) > 0 {
		return &badRequest{status: http.StatusUnprocessableEntity, code: "invalid_options",
			message: fmt.Sprintf("The options are not valid for plan %q: %s.", plan.Name, strings.Join(problems, "; "))}
	}
	return nil
}

// optionsUpdate is a PATCH's options change across the attempts of one
// optimistic update: the plan and the stored secret options are read once,
// and the Secret is written only when what it must hold changes, so a
// retry after a conflict costs no more than the re-read.
type optionsUpdate struct {
	patch json.RawMessage

	plan *jetwayv1.ExtensionPlan
	kept domain.Options // the secret options stored before this request

	written  domain.Options // what this request last wrote to the Secret
	wrote    bool
	revision string // the new revision, once the secret options changed
}

// load reads the plan and the stored secret options, once.
func (u *optionsUpdate) load(ctx context.Context, s *Server, ext *jetwayv1.Extension, planName string) error {
	if u.plan != nil && u.plan.Name == planName {
		return nil
	}
	plan, err := domain.ResolvePlan(ctx, s.client, planName)
	if err != nil {
		return planError(err)
	}
	kept, err := domain.ReadSecretOptions(ctx, s.live, ext)
	if err != nil {
		return err
	}
	u.plan, u.kept = plan, kept
	return nil
}

// merge applies the PATCH's options to ext's as a JSON merge patch
// (flyctl sends only the options the user changed), over its spec's and
// its Secret's together, validates the result against the plan and splits
// it again. An options of null removes them all.
func (u *optionsUpdate) merge(ext *jetwayv1.Extension) (public, secret domain.Options, err error) {
	merged := domain.Options{}
	if !bytes.Equal(bytes.TrimSpace(u.patch), []byte("null")) {
		changes, err := domain.ParseOptions(u.patch)
		if err != nil {
			return nil, nil, invalid("Field %q must be a JSON object or null.", "options")
		}
		var raw []byte
		if ext.Spec.Options != nil {
			raw = ext.Spec.Options.Raw
		}
		stored, err := domain.ParseOptions(raw)
		if err != nil {
			stored = domain.Options{} // a GitOps spec holding a non-object: replaced
		}
		maps.Copy(stored, u.kept)
		merged = stored.MergePatch(changes)
	}
	if err := validOptions(u.plan, merged); err != nil {
		return nil, nil, err
	}
	public, secret = merged.Split(u.plan)
	return public, secret, nil
}

// apply sets next's options: the public ones in its spec, the secret ones
// in its Secret, and a new revision annotation once those changed (sticky
// across attempts: a retry finds the Secret written already, but the
// Extension still has to say it changed).
func (u *optionsUpdate) apply(ctx context.Context, s *Server, current, next *jetwayv1.Extension) error {
	if err := u.load(ctx, s, current, next.Spec.Plan); err != nil {
		return err
	}
	public, secret, err := u.merge(current)
	if err != nil {
		return err
	}
	next.Spec.Options = public.JSON()
	same := func(a, b domain.Options) bool {
		return maps.EqualFunc(a, b, func(x, y json.RawMessage) bool { return bytes.Equal(x, y) })
	}
	// Nothing to write when the secret options stay what they were (the
	// usual PATCH), or what this request wrote on an earlier attempt.
	if (!u.wrote && !same(u.kept, secret)) || (u.wrote && !same(u.written, secret)) {
		changed, err := domain.WriteSecretOptions(ctx, s.client, s.live, s.scheme, next, secret)
		if err != nil {
			return err
		}
		if changed {
			u.revision = domain.NewRevision()
		}
		u.written, u.wrote = secret, true
	}
	if u.revision != "" {
		if next.Annotations == nil {
			next.Annotations = map[string]string{}
		}
		next.Annotations[jetwayv1.AnnotationSecretOptionsRevision] = u.revision
	}
	return nil
}
