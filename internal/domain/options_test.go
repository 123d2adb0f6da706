package domain

import (
	"encoding/json"
	"strings"
	"testing"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
)

func mustOptions(t *testing.T, raw string) Options {
	t.Helper()
	o, err := ParseOptions([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func TestOptionsMergeLikeAJSONMergePatch(t *testing.T) {
	current := mustOptions(t, `{"size":"small","tags":{"team":"a","env":"prod"},"debug":true}`)
	got := current.MergePatch(mustOptions(t, `{"size":"large","tags":{"env":null,"owner":"b"},"debug":null}`))
	raw, _ := json.Marshal(map[string]json.RawMessage(got))
	if want := `{"size":"large","tags":{"owner":"b","team":"a"}}`; string(raw) != want {
		t.Fatalf("merged %s, want %s", raw, want)
	}
	if _, err := ParseOptions([]byte(`[1]`)); err == nil {
		t.Error("an array was taken as options")
	}
}

func TestOptionsAreValidatedWithFieldPaths(t *testing.T) {
	plan := &jetwayv1.ExtensionPlan{Spec: jetwayv1.ExtensionPlanSpec{OptionsSchema: &apiextensionsv1.JSON{Raw: []byte(`{
		"type": "object", "additionalProperties": false, "required": ["size"],
		"properties": {
			"size": {"type": "string", "enum": ["small", "large"]},
			"replicas": {"type": "integer", "minimum": 0, "maximum": 5},
			"tags": {"type": "object", "additionalProperties": {"type": "string"}}
		}}`)}}}
	if problems, err := ValidateOptions(plan, mustOptions(t, `{"size":"small","replicas":2,"tags":{"a":"b"}}`)); err != nil || len(problems) != 0 {
		t.Fatalf("valid options: %v %v", problems, err)
	}
	problems, err := ValidateOptions(plan, mustOptions(t, `{"size":"huge","replicas":9,"tags":{"a":1},"colour":"red"}`))
	if err != nil {
		t.Fatal(err)
	}
	all := strings.Join(problems, "\n")
	for _, want := range []string{"options.size", "options.replicas", "options.tags.a", "colour"} {
		if !strings.Contains(all, want) {
			t.Errorf("no problem names %s:\n%s", want, all)
		}
	}
	if problems, _ := ValidateOptions(plan, Options{}); len(problems) != 1 || !strings.Contains(problems[0], "size") {
		t.Errorf("missing required option: %v", problems)
	}
	if problems, err := ValidateOptions(&jetwayv1.ExtensionPlan{}, mustOptions(t, `{"anything":1}`)); err != nil || problems != nil {
		t.Errorf("a plan without a schema refused %v %v", problems, err)
	}
}

func TestOptionsSplitAndReachMachinesByName(t *testing.T) {
	plan := &jetwayv1.ExtensionPlan{Spec: jetwayv1.ExtensionPlanSpec{SecretOptions: []string{"api-key"}}}
	public, secret := mustOptions(t, `{"api-key":"s3cr3t","log level":"debug","max":3}`).Split(plan)
	if len(public) != 2 || len(secret) != 1 || OptionValue(secret["api-key"]) != "s3cr3t" {
		t.Fatalf("split %v / %v", public, secret)
	}
	if got := OptionEnvName("log level"); got != "JETWAY_OPTION_LOG_LEVEL" {
		t.Errorf("env name %s", got)
	}
	if got := OptionValue(public["max"]); got != "3" {
		t.Errorf("a number reaches machines as %q, want its JSON", got)
	}
}
