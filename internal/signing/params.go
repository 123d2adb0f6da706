package signing

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"regexp"
	"strconv"
	"time"
)

// Params are the anti-replay parameters Fly adds to every signed request.
// They are covered by the signature because they travel inside the signed
// bytes (body or query string).
type Params struct {
	Timestamp    time.Time
	HasTimestamp bool
	Nonce        string
	URL          string
	// Unsigned names the parameters that were not in the signed bytes but
	// in the query string of a POST or PATCH, whose signature covers only
	// the body. Verify refuses them, but in report-only mode (Verifier).
	Unsigned []string
}

// ParamsFromBody reads a POST/PATCH's parameters from its body, as
// ParamsFromJSON; one missing there but present in the query string is
// taken from there and named in Unsigned, so that Verify can say where it
// was, or accept it while onboarding.
func ParamsFromBody(body []byte, query url.Values) (Params, error) {
	p, err := ParamsFromJSON(body)
	if err != nil {
		return p, err
	}
	if len(missingParams(p)) == 0 || len(query) == 0 {
		return p, nil
	}
	q, err := ParamsFromQuery(query)
	if err != nil {
		return Params{}, err
	}
	if !p.HasTimestamp && q.HasTimestamp {
		p.Timestamp, p.HasTimestamp = q.Timestamp, true
		p.Unsigned = append(p.Unsigned, "timestamp")
	}
	if p.Nonce == "" && q.Nonce != "" {
		p.Nonce = q.Nonce
		p.Unsigned = append(p.Unsigned, "nonce")
	}
	if p.URL == "" && q.URL != "" {
		p.URL = q.URL
		p.Unsigned = append(p.Unsigned, "url")
	}
	return p, nil
}

// ParamsFromJSON reads the top-level "timestamp", "nonce" and "url" fields of
// a POST/PATCH body. A missing or null field is left unset (Verify reports
// it); a field of the wrong type, or a timestamp that is not a number or a
// numeric string, is a *Error with CodeMissingParam. Fly's docs show the
// timestamp as a number in requests but as a string in webhooks, so both are
// accepted. A body that is not a JSON object is a plain error.
func ParamsFromJSON(body []byte) (Params, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(body, &fields); err != nil {
		return Params{}, fmt.Errorf("read signed params: body is not a JSON object: %w", err)
	}
	var p Params
	if raw, ok := fields["timestamp"]; ok && !isNull(raw) {
		ts, err := jsonTimestamp(raw)
		if err != nil {
			return Params{}, err
		}
		p.Timestamp, p.HasTimestamp = ts, true
	}
	for _, f := range []struct {
		name string
		dst  *string
	}{{"nonce", &p.Nonce}, {"url", &p.URL}} {
		name, dst := f.name, f.dst
		raw, ok := fields[name]
		if !ok || isNull(raw) {
			continue
		}
		if err := json.Unmarshal(raw, dst); err != nil {
			return Params{}, reject(CodeMissingParam, fmt.Sprintf("The %q field must be a string.", name))
		}
	}
	return p, nil
}

// ParamsFromQuery reads timestamp, nonce and url from a GET/DELETE query. A
// parameter given twice is rejected: the signature covers both copies, but
// the gateway and this package could disagree about which one counts.
func ParamsFromQuery(q url.Values) (Params, error) {
	var p Params
	for _, name := range []string{"timestamp", "nonce", "url"} {
		if len(q[name]) > 1 {
			return Params{}, reject(CodeMissingParam, fmt.Sprintf("The %q query parameter is given more than once.", name))
		}
	}
	if s := q.Get("timestamp"); s != "" {
		ts, err := parseTimestamp(s)
		if err != nil {
			return Params{}, err
		}
		p.Timestamp, p.HasTimestamp = ts, true
	}
	p.Nonce = q.Get("nonce")
	p.URL = q.Get("url")
	return p, nil
}

func isNull(raw json.RawMessage) bool { return bytes.Equal(bytes.TrimSpace(raw), []byte("null")) }

// jsonTimestamp accepts a JSON number or a JSON string holding one.
func jsonTimestamp(raw json.RawMessage) (time.Time, error) {
	raw = bytes.TrimSpace(raw)
	var s string
	if len(raw) > 0 && raw[0] == '"' {
		if err := json.Unmarshal(raw, &s); err != nil {
			return time.Time{}, badTimestamp()
		}
	} else {
		s = string(raw) // a number token, or a bool/object/array that parseTimestamp rejects
	}
	return parseTimestamp(s)
}

// numeric is the JSON number grammar. strconv alone would also take "NaN",
// "Inf", "+5", "0x1p3" and "1_000", none of which a signer means as a time.
var numeric = regexp.MustCompile(`^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$`)

// parseTimestamp accepts unix seconds, integral or fractional, that fit in
// int64 seconds (a float→int conversion out of range is undefined).
func parseTimestamp(s string) (time.Time, error) {
	if !numeric.MatchString(s) {
		return time.Time{}, badTimestamp()
	}
	if sec, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.Unix(sec, 0).UTC(), nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.Abs(f) >= 1<<62 {
		return time.Time{}, badTimestamp()
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)).UTC(), nil
}

func badTimestamp() *Error {
	return reject(CodeMissingParam, "The timestamp must be a unix time in seconds, as a number or a numeric string.")
}
