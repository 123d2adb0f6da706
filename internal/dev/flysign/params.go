package flysign

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"time"
)

// ParamNames are the parameters Fly adds to a signed request, in the order
// the spec lists them (fly-extensions-provisioning-api.txt lines 48–50).
// They travel inside the signed bytes: JSON body fields for POST and PATCH,
// query parameters for GET and DELETE (DESIGN.md lines 89–90).
var ParamNames = []string{"timestamp", "nonce", "url"}

// Params are the signed parameters of one request.
type Params struct {
	Timestamp    time.Time
	HasTimestamp bool
	Nonce        string
	URL          string
}

// ErrNotObject is returned for a body that is not a JSON object: a
// malformed request rather than a signing failure.
var ErrNotObject = errors.New("the request body is not a JSON object")

// ParamsFromJSON reads the top-level timestamp, nonce and url of a POST or
// PATCH body. A missing or null field is left unset, for the verifier to
// report; a field of the wrong type is an *Error with CodeMissingParam.
// The timestamp may be a JSON number (as in the spec's provisioning
// example) or a JSON string (as in its webhook example), holding whole unix
// seconds either way.
func ParamsFromJSON(body []byte) (Params, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(body, &fields); err != nil || fields == nil {
		return Params{}, ErrNotObject
	}
	var p Params
	if raw, ok := present(fields, "timestamp"); ok {
		ts, err := timestampOf(raw)
		if err != nil {
			return Params{}, err
		}
		p.Timestamp, p.HasTimestamp = ts, true
	}
	for _, f := range []struct {
		name string
		dst  *string
	}{{"nonce", &p.Nonce}, {"url", &p.URL}} {
		raw, ok := present(fields, f.name)
		if !ok {
			continue
		}
		if err := json.Unmarshal(raw, f.dst); err != nil {
			return Params{}, reject(CodeMissingParam, fmt.Sprintf("The %q field must be a string.", f.name))
		}
	}
	return p, nil
}

func present(fields map[string]json.RawMessage, name string) (json.RawMessage, bool) {
	raw, ok := fields[name]
	return raw, ok && !bytes.Equal(bytes.TrimSpace(raw), []byte("null"))
}

// unixSeconds is a whole number of seconds as JSON writes it: no sign but
// minus, no leading zeros, no fraction or exponent.
var unixSeconds = regexp.MustCompile(`^-?(0|[1-9][0-9]*)$`)

func timestampOf(raw json.RawMessage) (time.Time, error) {
	s := string(bytes.TrimSpace(raw))
	if len(s) > 0 && s[0] == '"' {
		if err := json.Unmarshal(raw, &s); err != nil {
			return time.Time{}, badTimestamp()
		}
	}
	if !unixSeconds.MatchString(s) {
		return time.Time{}, badTimestamp()
	}
	sec, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return time.Time{}, badTimestamp()
	}
	return time.Unix(sec, 0).UTC(), nil
}

func badTimestamp() *Error {
	return reject(CodeMissingParam, "The timestamp must be a unix time in seconds, as a number or a numeric string.")
}
