package flysimtest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/superfly/fly-go/flaps"
	"github.com/superfly/fly-go/tokens"
)

// rewriteTransport points fly-go at the test server. fly-go only reads its
// base URL from FLY_FLAPS_BASE_URL, and tests must not touch the process
// environment, so requests are redirected here instead.
type rewriteTransport struct {
	target *url.URL
	next   http.RoundTripper
}

func (t rewriteTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.URL.Scheme = t.target.Scheme
	r.URL.Host = t.target.Host
	r.Host = t.target.Host
	return t.next.RoundTrip(r)
}

// patientTransport is the client Fly asks for: on a 429 it waits out
// Retry-After and tries again, as Jetway's own client does. Fly's limits are
// always on in the simulator, so tests that make calls faster than Fly
// allows are slowed down to Fly's pace rather than exempted. Tests about
// the limits themselves use ImpatientClient, which sees every 429.
type patientTransport struct {
	next   http.RoundTripper
	waited *atomic.Int32
}

const maxPatience = 10 // 429s in a row before the caller gets one

func (t patientTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	var body []byte
	if r.Body != nil && r.Body != http.NoBody {
		var err error
		if body, err = io.ReadAll(r.Body); err != nil {
			return nil, err
		}
		_ = r.Body.Close()
	}
	for attempt := 1; ; attempt++ {
		req := r.Clone(r.Context())
		if body != nil {
			req.Body = io.NopCloser(bytes.NewReader(body))
			req.ContentLength = int64(len(body))
		}
		resp, err := t.next.RoundTrip(req)
		if err != nil || resp.StatusCode != http.StatusTooManyRequests || attempt == maxPatience {
			return resp, err
		}
		secs, err := strconv.Atoi(resp.Header.Get("Retry-After"))
		_ = resp.Body.Close()
		if err != nil || secs < 1 {
			return nil, fmt.Errorf("429 with a bad Retry-After %q", resp.Header.Get("Retry-After"))
		}
		t.waited.Add(1)
		select {
		case <-time.After(time.Duration(secs) * time.Second):
		case <-r.Context().Done():
			return nil, r.Context().Err()
		}
	}
}

// ResponseLog keeps the last response a client got, headers included,
// which fly-go's errors do not carry.
type ResponseLog struct {
	mu   sync.Mutex
	last *http.Response
	next http.RoundTripper
}

func (l *ResponseLog) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := l.next.RoundTrip(r)
	if err == nil {
		l.mu.Lock()
		l.last = resp
		l.mu.Unlock()
	}
	return resp, err
}

// Last is the last response.
func (l *ResponseLog) Last() *http.Response {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.last
}

// PatientClient is a real fly-go client for the server at baseURL with the
// given tokens (nil: none) that waits out 429s, counting them in waited.
func PatientClient(t testing.TB, ctx context.Context, baseURL string, toks *tokens.Tokens, waited *atomic.Int32) *flaps.Client {
	t.Helper()
	return newClient(t, ctx, toks, patientTransport{next: rewrite(t, baseURL), waited: waited})
}

// ImpatientClient is a fly-go client with Token that sees every 429, with
// a log of the responses it got.
func ImpatientClient(t testing.TB, ctx context.Context, baseURL string) (*flaps.Client, *ResponseLog) {
	t.Helper()
	log := &ResponseLog{next: rewrite(t, baseURL)}
	return newClient(t, ctx, tokens.Parse(Token), log), log
}

func rewrite(t testing.TB, baseURL string) http.RoundTripper {
	t.Helper()
	target, err := url.Parse(baseURL)
	if err != nil {
		t.Fatal(err)
	}
	return rewriteTransport{target: target, next: http.DefaultTransport}
}

func newClient(t testing.TB, ctx context.Context, toks *tokens.Tokens, transport http.RoundTripper) *flaps.Client {
	t.Helper()
	c, err := flaps.NewWithOptions(ctx, flaps.NewClientOpts{Tokens: toks, Transport: transport})
	if err != nil {
		t.Fatal(err)
	}
	return c
}
