package signing

import (
	"errors"
	"net/url"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParamsFromJSON(t *testing.T) {
	ts := time.Unix(1685641159, 0).UTC()
	tests := []struct {
		name     string
		body     string
		want     Params
		wantCode string // "" means no error; "plain" means a non-*Error error
	}{
		{"number timestamp", `{"timestamp":1685641159,"nonce":"n1","url":"https://x/flyio/extensions"}`,
			Params{Timestamp: ts, HasTimestamp: true, Nonce: "n1", URL: "https://x/flyio/extensions"}, ""},
		{"string timestamp", `{"timestamp":"1685641159","nonce":"n1","url":"u"}`,
			Params{Timestamp: ts, HasTimestamp: true, Nonce: "n1", URL: "u"}, ""},
		{"fractional timestamp", `{"timestamp":1685641159.5}`,
			Params{Timestamp: ts.Add(500 * time.Millisecond), HasTimestamp: true}, ""},
		{"exponent timestamp", `{"timestamp":1.685641159e9}`, Params{Timestamp: ts, HasTimestamp: true}, ""},
		{"nested fields are not params", `{"resource":{"timestamp":1,"nonce":"x","url":"y"}}`, Params{}, ""},
		{"missing all", `{}`, Params{}, ""},
		{"null fields are missing", `{"timestamp":null,"nonce":null,"url":null}`, Params{}, ""},
		{"unknown fields kept out", `{"name":"db","options":{"a":1}}`, Params{}, ""},
		{"bool timestamp", `{"timestamp":true}`, Params{}, CodeMissingParam},
		{"object timestamp", `{"timestamp":{"s":1}}`, Params{}, CodeMissingParam},
		{"array timestamp", `{"timestamp":[1]}`, Params{}, CodeMissingParam},
		{"word timestamp", `{"timestamp":"yesterday"}`, Params{}, CodeMissingParam},
		{"NaN string timestamp", `{"timestamp":"NaN"}`, Params{}, CodeMissingParam},
		{"hex float string timestamp", `{"timestamp":"0x1p30"}`, Params{}, CodeMissingParam},
		{"empty string timestamp", `{"timestamp":""}`, Params{}, CodeMissingParam},
		{"huge timestamp", `{"timestamp":1e300}`, Params{}, CodeMissingParam},
		{"numeric nonce", `{"nonce":123}`, Params{}, CodeMissingParam},
		{"object url", `{"url":{}}`, Params{}, CodeMissingParam},
		{"not JSON", `timestamp=1`, Params{}, "plain"},
		{"JSON array", `[1,2]`, Params{}, "plain"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParamsFromJSON([]byte(tt.body))
			checkErrCode(t, err, tt.wantCode)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("params (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParamsFromQuery(t *testing.T) {
	ts := time.Unix(1685641159, 0).UTC()
	tests := []struct {
		name     string
		query    string
		want     Params
		wantCode string
	}{
		{"all present", "timestamp=1685641159&nonce=n1&url=https%3A%2F%2Fx%2Fflyio%2Fextensions%2Fa",
			Params{Timestamp: ts, HasTimestamp: true, Nonce: "n1", URL: "https://x/flyio/extensions/a"}, ""},
		{"missing all", "", Params{}, ""},
		{"empty values are missing", "timestamp=&nonce=&url=", Params{}, ""},
		{"bad timestamp", "timestamp=soon", Params{}, CodeMissingParam},
		{"duplicate nonce", "nonce=a&nonce=b", Params{}, CodeMissingParam},
		{"duplicate timestamp", "timestamp=1&timestamp=2", Params{}, CodeMissingParam},
		{"duplicate url", "url=a&url=b", Params{}, CodeMissingParam},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, err := url.ParseQuery(tt.query)
			if err != nil {
				t.Fatal(err)
			}
			got, err := ParamsFromQuery(q)
			checkErrCode(t, err, tt.wantCode)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("params (-want +got):\n%s", diff)
			}
		})
	}
}

// checkErrCode asserts err is nil (want ""), a *Error with code want, or a
// plain error (want "plain").
func checkErrCode(t *testing.T, err error, want string) {
	t.Helper()
	var se *Error
	switch {
	case want == "" && err != nil:
		t.Fatalf("unexpected error: %v", err)
	case want == "plain" && (err == nil || errors.As(err, &se)):
		t.Fatalf("want a plain error, got %#v", err)
	case want != "" && want != "plain" && (!errors.As(err, &se) || se.Code != want):
		t.Fatalf("want *Error with code %s, got %#v", want, err)
	}
}
