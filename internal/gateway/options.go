package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"fmt"
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

// mergedOptions applies a PATCH's options to the extension's as a JSON
// merge patch (flyctl sends only the options the user changed), over its
// spec's and its Secret's together, validates the result against plan and
// splits it again. An options of null removes them all.
func (s *Server) mergedOptions(ctx context.Context, ext *jetwayv1.Extension, planName string, patch json.RawMessage) (public, secret domain.Options, err error) {
	plan, err := domain.ResolvePlan(ctx, s.client, planName)
	if err != nil {
		return nil, nil, planError(err)
	}
	merged := domain.Options{}
	if !bytes.Equal(bytes.TrimSpace(patch), []byte("null")) {
		changes, err := domain.ParseOptions(patch)
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
		kept, err := domain.ReadSecretOptions(ctx, s.live, ext)
		if err != nil {
			return nil, nil, err
		}
		maps.Copy(stored, kept)
		merged = stored.MergePatch(changes)
	}
	if err := validOptions(plan, merged); err != nil {
		return nil, nil, err
	}
	public, secret = merged.Split(plan)
	return public, secret, nil
}
