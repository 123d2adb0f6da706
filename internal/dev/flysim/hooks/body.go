package hooks

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// actions are the webhook actions Fly supports (spec lines 273–277).
var actions = map[string]bool{
	"resource.created": true,
	"resource.updated": true,
	"resource.deleted": true,
}

// webhookBody is what the sink needs from a webhook besides the signed
// params.
type webhookBody struct {
	deliveryID, action, resourceID string
	resource                       map[string]any
}

// parseWebhookBody checks the body against the contract. The signed params
// (nonce, url) were checked already; the timestamp is held to the contract's
// form, a JSON string as in Fly's own example.
func parseWebhookBody(body []byte) (webhookBody, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(body, &fields); err != nil {
		return webhookBody{}, errors.New("The request body must be a JSON object.")
	}
	present := func(name string) (json.RawMessage, bool) {
		raw, ok := fields[name]
		return raw, ok && !bytes.Equal(bytes.TrimSpace(raw), []byte("null"))
	}
	str := func(name string) (string, error) {
		raw, ok := present(name)
		if !ok {
			return "", fmt.Errorf("The webhook has no %q.", name)
		}
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", fmt.Errorf("The %q field must be a string.", name)
		}
		if s == "" {
			return "", fmt.Errorf("The %q field must not be empty.", name)
		}
		return s, nil
	}
	var out webhookBody
	if raw, _ := present("timestamp"); len(raw) > 0 && bytes.TrimSpace(raw)[0] != '"' {
		return out, errors.New(`The "timestamp" field must be a JSON string of unix seconds, as in Fly's example ("1693513586").`)
	}
	var err error
	if out.deliveryID, err = str("delivery_id"); err != nil {
		return out, err
	}
	if out.action, err = str("action"); err != nil {
		return out, err
	}
	if !actions[out.action] {
		return out, fmt.Errorf("The action %q is not one Fly supports (resource.created, resource.updated, resource.deleted).", out.action)
	}
	raw, ok := present("resource")
	if !ok {
		return out, errors.New(`The webhook has no "resource".`)
	}
	if err := json.Unmarshal(raw, &out.resource); err != nil {
		return out, errors.New(`The "resource" field must be a JSON object.`)
	}
	id, ok := out.resource["id"].(string)
	if !ok || id == "" {
		return out, errors.New(`The "resource" must have a non-empty string "id".`)
	}
	out.resourceID = id
	return out, nil
}

// copyJSONObject deep-copies what encoding/json decodes into an any.
func copyJSONObject(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = copyJSONValue(v)
	}
	return out
}

func copyJSONValue(v any) any {
	switch v := v.(type) {
	case map[string]any:
		return copyJSONObject(v)
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = copyJSONValue(e)
		}
		return out
	default: // string, float64, bool, nil, json.Number: immutable
		return v
	}
}
