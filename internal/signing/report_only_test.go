package signing

import (
	"errors"
	"fmt"
	"net/url"
	"testing"
	"time"
)

// TestReportOnlyWaivesOnlyTheURLAndTheParamsPlace: while onboarding, a url
// that is not this endpoint and parameters sent in a POST's query string
// are reported and let through; everything else refuses as in strict mode,
// and report-only ends by itself.
func TestReportOnlyWaivesOnlyTheURLAndTheParamsPlace(t *testing.T) {
	now := t0 // newVerifier's clock
	nonces := 0
	newNonce := func(*testing.T) string { nonces++; return fmt.Sprintf("n-%d", nonces) }
	misdirected := func(t *testing.T) signedRequest {
		return postRequest(t, testSecret, now.Unix(), newNonce(t), "https://elsewhere.example/flyio/extensions")
	}
	// Fly could send the parameters in the query string of a POST: the
	// body (what is signed) then lacks them.
	unsignedParams := func(t *testing.T) signedRequest {
		body := `{"name":"db","id":"ext-1"}`
		q := url.Values{"timestamp": {fmt.Sprint(now.Unix())}, "nonce": {newNonce(t)}, "url": {testURL}}
		p, err := ParamsFromBody([]byte(body), q)
		if err != nil {
			t.Fatal(err)
		}
		return signedRequest{msg: []byte(body), sig: Sign([]byte(testSecret), []byte(body)), params: p}
	}
	cases := []struct {
		name   string
		req    func(*testing.T) signedRequest
		strict string // the code strict mode refuses with
		waived bool   // report-only lets it through
	}{
		{"url mismatch", misdirected, CodeURLMismatch, true},
		{"parameters in the query string", unsignedParams, CodeUnsignedParams, true},
		{"bad signature", func(t *testing.T) signedRequest {
			r := postRequest(t, testSecret, now.Unix(), newNonce(t), testURL)
			r.sig = Sign([]byte("another secret"), r.msg)
			return r
		}, CodeBadSignature, false},
		{"stale timestamp", func(t *testing.T) signedRequest {
			return postRequest(t, testSecret, now.Add(-10*time.Minute).Unix(), newNonce(t), testURL)
		}, CodeStaleTimestamp, false},
		{"missing nonce", func(t *testing.T) signedRequest {
			r := postRequest(t, testSecret, now.Unix(), "", testURL)
			return r
		}, CodeMissingParam, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			strict := newVerifier(t, testSecret)
			r := tc.req(t)
			if code := codeOf(strict.Verify(r.msg, r.sig, r.params, testURL)); code != tc.strict {
				t.Fatalf("strict: %q, want %q", code, tc.strict)
			}

			lenient := newVerifier(t, testSecret)
			lenient.ReportOnlyUntil = now.Add(time.Hour)
			var reported []string
			lenient.Report = func(e *Error) { reported = append(reported, e.Code) }
			r = tc.req(t)
			err := lenient.Verify(r.msg, r.sig, r.params, testURL)
			if tc.waived {
				if err != nil || len(reported) != 1 || reported[0] != tc.strict {
					t.Fatalf("report-only: %v, reported %v; want accepted with %q reported", err, reported, tc.strict)
				}
				// The nonce is still enforced for a waived request.
				if code := codeOf(lenient.Verify(r.msg, r.sig, r.params, testURL)); code != CodeReplayedNonce {
					t.Fatalf("report-only replay: %q, want %q", code, CodeReplayedNonce)
				}
			} else if code := codeOf(err); code != tc.strict || len(reported) != 0 {
				t.Fatalf("report-only: %q, reported %v; want refused with %q, nothing reported", code, reported, tc.strict)
			}

			// Past its end, report-only is strict again by itself.
			ended := newVerifier(t, testSecret)
			ended.ReportOnlyUntil = now.Add(-time.Second)
			ended.Report = func(e *Error) { t.Errorf("reported %s after report-only ended", e.Code) }
			r = tc.req(t)
			if code := codeOf(ended.Verify(r.msg, r.sig, r.params, testURL)); code != tc.strict {
				t.Fatalf("after report-only: %q, want %q", code, tc.strict)
			}
		})
	}
}

func TestParamsFromBodyPrefersTheSignedBody(t *testing.T) {
	body := `{"timestamp":1685641159,"nonce":"in-body","url":"https://x/flyio/extensions"}`
	p, err := ParamsFromBody([]byte(body), url.Values{"nonce": {"in-query"}})
	if err != nil || p.Nonce != "in-body" || len(p.Unsigned) != 0 {
		t.Fatalf("ParamsFromBody = %+v, %v; want the body's nonce, nothing unsigned", p, err)
	}
	p, err = ParamsFromBody([]byte(`{"timestamp":1685641159}`), url.Values{"nonce": {"n"}, "url": {"https://x/"}})
	if err != nil || p.Nonce != "n" || p.URL != "https://x/" || len(p.Unsigned) != 2 {
		t.Fatalf("ParamsFromBody = %+v, %v; want nonce and url from the query, named unsigned", p, err)
	}
}

func codeOf(err error) string {
	var se *Error
	if errors.As(err, &se) {
		return se.Code
	}
	if err != nil {
		return "plain: " + err.Error()
	}
	return ""
}
