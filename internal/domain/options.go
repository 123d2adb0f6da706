package domain

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/kube-openapi/pkg/validation/spec"
	"k8s.io/kube-openapi/pkg/validation/strfmt"
	"k8s.io/kube-openapi/pkg/validation/validate"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
)

// Options is an extension's options object: top-level names to JSON values.
type Options map[string]json.RawMessage

// ParseOptions reads an options object; nil or null is empty. Anything but
// a JSON object is an error naming "options".
func ParseOptions(raw []byte) (Options, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return Options{}, nil
	}
	var o Options
	if err := json.Unmarshal(raw, &o); err != nil || o == nil {
		return nil, fmt.Errorf("options: must be a JSON object")
	}
	return o, nil
}

// MergePatch applies patch to o as a JSON merge patch (RFC 7386), as Fly's
// PATCH sends options: an absent name is unchanged, null removes it, an
// object merges into an object, anything else replaces.
func (o Options) MergePatch(patch Options) Options {
	out := maps.Clone(o)
	if out == nil {
		out = Options{}
	}
	for name, v := range patch {
		if bytes.Equal(bytes.TrimSpace(v), []byte("null")) {
			delete(out, name)
			continue
		}
		out[name] = mergeValue(out[name], v)
	}
	return out
}

func mergeValue(target, patch json.RawMessage) json.RawMessage {
	var p map[string]json.RawMessage
	if json.Unmarshal(patch, &p) != nil || p == nil {
		return patch
	}
	var t map[string]json.RawMessage
	if json.Unmarshal(target, &t) != nil || t == nil {
		t = map[string]json.RawMessage{}
	}
	merged, _ := json.Marshal(map[string]json.RawMessage(Options(t).MergePatch(Options(p))))
	return merged
}

// JSON is o as an options object for a spec; nil when empty.
func (o Options) JSON() *apiextensionsv1.JSON {
	if len(o) == 0 {
		return nil
	}
	raw, _ := json.Marshal(map[string]json.RawMessage(o))
	return &apiextensionsv1.JSON{Raw: raw}
}

// Split separates the options the plan keeps secret from the others.
func (o Options) Split(plan *jetwayv1.ExtensionPlan) (public, secret Options) {
	public, secret = Options{}, Options{}
	for name, v := range o {
		if slices.Contains(plan.Spec.SecretOptions, name) {
			secret[name] = v
		} else {
			public[name] = v
		}
	}
	return public, secret
}

// ValidateOptions checks o against the plan's optionsSchema (with the
// OpenAPI validator the API server's own CRD validation is built on) and
// returns one message per problem, each naming its field path. A plan
// without a schema accepts any object. A schema that cannot be read is an
// error of the plan, not of o.
func ValidateOptions(plan *jetwayv1.ExtensionPlan, o Options) (problems []string, err error) {
	if plan.Spec.OptionsSchema == nil {
		return nil, nil
	}
	var schema spec.Schema
	if err := json.Unmarshal(plan.Spec.OptionsSchema.Raw, &schema); err != nil {
		return nil, fmt.Errorf("plan %s: optionsSchema is not an OpenAPI v3 schema: %w", plan.Name, err)
	}
	var value any = map[string]any{}
	if len(o) > 0 {
		raw, _ := json.Marshal(map[string]json.RawMessage(o))
		if err := json.Unmarshal(raw, &value); err != nil {
			return nil, err
		}
	}
	result := validate.NewSchemaValidator(&schema, nil, "options", strfmt.Default).Validate(value)
	for _, e := range result.Errors {
		problems = append(problems, e.Error())
	}
	slices.Sort(problems)
	return problems, nil
}

// OptionEnvName is the machine environment variable (or Fly app secret)
// of option name: JETWAY_OPTION_ and the name in upper case, with every
// character outside [A-Z0-9] as '_'.
func OptionEnvName(name string) string {
	var b strings.Builder
	b.WriteString("JETWAY_OPTION_")
	for _, r := range strings.ToUpper(name) {
		if r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}

// OptionValue is how an option's value reaches a machine: a JSON string as
// its text, anything else as its JSON.
func OptionValue(v json.RawMessage) string {
	var s string
	if json.Unmarshal(v, &s) == nil {
		return s
	}
	return string(bytes.TrimSpace(v))
}

// OptionsSecretName is the Secret holding an extension's secret options.
func OptionsSecretName(extensionObjectName string) string {
	return extensionObjectName + "-options"
}
