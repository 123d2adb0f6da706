package flyside

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jetway-dev/jetway/internal/signing"
)

const secret = "shared-secret"

// seen is what the test gateway observed about one request.
type seen struct {
	Method  string         `json:"method"`
	Path    string         `json:"path"` // escaped, as sent
	Query   string         `json:"query"`
	Body    map[string]any `json:"body"`
	Verdict string         `json:"verdict"` // "ok" or the rejection code
}

// newGateway is a stand-in for Jetway's gateway: it verifies every request
// under /flyio with signing.Verifier over the raw bytes and echoes what it
// saw, answering 401 on rejection.
func newGateway(t *testing.T) *httptest.Server {
	t.Helper()
	store, err := signing.OpenNonceStore(filepath.Join(t.TempDir(), "nonces.db"), 5*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	v := &signing.Verifier{Secrets: [][]byte{[]byte(secret)}, Nonces: store}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := seen{Method: r.Method, Path: r.URL.EscapedPath(), Query: r.URL.RawQuery}
		var msg []byte
		var p signing.Params
		var perr error
		if r.Method == http.MethodPost || r.Method == http.MethodPatch {
			msg, _ = io.ReadAll(r.Body)
			p, perr = signing.ParamsFromJSON(msg)
			if err := json.Unmarshal(msg, &s.Body); err != nil {
				t.Errorf("request body is not JSON: %v", err)
			}
		} else {
			msg = []byte(r.URL.RawQuery)
			p, perr = signing.ParamsFromQuery(r.URL.Query())
		}
		err := perr
		if err == nil {
			err = v.Verify(msg, r.Header.Get("X-Signature"), p, "http://"+r.Host+r.URL.EscapedPath())
		}
		code := http.StatusOK
		s.Verdict = "ok"
		var se *signing.Error
		switch {
		case errors.As(err, &se):
			code, s.Verdict = http.StatusUnauthorized, se.Code
		case err != nil:
			code, s.Verdict = http.StatusInternalServerError, err.Error()
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		if err := json.NewEncoder(w).Encode(s); err != nil {
			t.Error(err)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func newClient(srv *httptest.Server) *Client {
	return &Client{BaseURL: srv.URL + "/flyio", Secret: []byte(secret)}
}

func decodeSeen(t *testing.T, resp *Response, err error) seen {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	var s seen
	if err := resp.JSON(&s); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestRoundTripEachMethodVerifies(t *testing.T) {
	srv := newGateway(t)
	c := newClient(srv)
	ctx := context.Background()
	tests := []struct {
		name       string
		call       func() (*Response, error)
		wantMethod string
		wantPath   string
	}{
		{"create", func() (*Response, error) {
			return c.Create(ctx, map[string]any{"id": "ext-1", "name": "db", "read_regions": []string{"ord"}})
		}, "POST", "/flyio/extensions"},
		{"get", func() (*Response, error) { return c.Get(ctx, "ext-1") }, "GET", "/flyio/extensions/ext-1"},
		{"update", func() (*Response, error) {
			return c.Update(ctx, "ext-1", map[string]any{"plan": "pro"})
		}, "PATCH", "/flyio/extensions/ext-1"},
		{"delete", func() (*Response, error) { return c.Delete(ctx, "ext-1") }, "DELETE", "/flyio/extensions/ext-1"},
		{"escaped id", func() (*Response, error) { return c.Get(ctx, "a/b c") }, "GET", "/flyio/extensions/a%2Fb%20c"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := tt.call()
			s := decodeSeen(t, resp, err)
			if resp.StatusCode != http.StatusOK || s.Verdict != "ok" {
				t.Fatalf("HTTP %d, verdict %q", resp.StatusCode, s.Verdict)
			}
			if s.Method != tt.wantMethod || s.Path != tt.wantPath {
				t.Errorf("gateway saw %s %s, want %s %s", s.Method, s.Path, tt.wantMethod, tt.wantPath)
			}
		})
	}
}

func TestCreateBodyCarriesSigningFields(t *testing.T) {
	srv := newGateway(t)
	c := newClient(srv)
	c.Now = func() time.Time { return time.Now().Truncate(time.Second) }
	req := map[string]any{"id": "ext-1", "name": "db"}
	resp, err := c.Create(context.Background(), req)
	s := decodeSeen(t, resp, err)
	if s.Verdict != "ok" {
		t.Fatalf("verdict %q", s.Verdict)
	}
	if _, isNumber := s.Body["timestamp"].(float64); !isNumber {
		t.Errorf("timestamp %#v is not a JSON number", s.Body["timestamp"])
	}
	if n, _ := s.Body["nonce"].(string); len(n) != 32 {
		t.Errorf("nonce %q is not 16 bytes of hex", n)
	}
	if got, want := s.Body["url"], srv.URL+"/flyio/extensions"; got != want {
		t.Errorf("url = %v, want %v", got, want)
	}
	if diff := cmp.Diff(map[string]any{"id": "ext-1", "name": "db"}, req); diff != "" {
		t.Errorf("caller's map was modified (-want +got):\n%s", diff)
	}
}

// A signing field the caller sets is sent as given and still signed, so
// tests can reproduce Fly's variants (here the string timestamp of its
// webhook example).
func TestCallerSigningFieldsWin(t *testing.T) {
	srv := newGateway(t)
	c := newClient(srv)
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	resp, err := c.Create(context.Background(), map[string]any{"id": "a", "timestamp": ts})
	s := decodeSeen(t, resp, err)
	if s.Verdict != "ok" || s.Body["timestamp"] != ts {
		t.Fatalf("verdict %q, timestamp %#v; want ok and the string %q", s.Verdict, s.Body["timestamp"], ts)
	}
}

// The query keeps Fly's parameter order (timestamp, nonce, url), which is
// not url.Values' sorted order: only a gateway that verifies the raw query
// string accepts it.
func TestGetSignsRawQuery(t *testing.T) {
	srv := newGateway(t)
	c := newClient(srv)
	req, err := c.SignedRequest(context.Background(), http.MethodGet, "/extensions/ext-1", nil)
	if err != nil {
		t.Fatal(err)
	}
	raw := req.URL.RawQuery
	if !strings.HasPrefix(raw, "timestamp=") {
		t.Fatalf("query %q does not start with timestamp", raw)
	}
	sig := req.Header.Get("X-Signature")
	if !signing.Valid([][]byte{[]byte(secret)}, []byte(raw), sig) {
		t.Fatal("signature does not cover the raw query string")
	}
	if signing.Valid([][]byte{[]byte(secret)}, []byte(req.URL.Query().Encode()), sig) {
		t.Fatal("re-encoded query verified too: the test proves nothing")
	}
	q := req.URL.Query()
	if got, want := q.Get("url"), srv.URL+"/flyio/extensions/ext-1"; got != want {
		t.Errorf("url = %q, want %q", got, want)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("HTTP %d", resp.StatusCode)
	}
}

func TestTamperedRequestsAreRejected(t *testing.T) {
	srv := newGateway(t)
	c := newClient(srv)
	ctx := context.Background()
	tests := []struct {
		name     string
		build    func(t *testing.T) *http.Request
		wantCode string
	}{
		{"body changed", func(t *testing.T) *http.Request {
			req := mustBuild(t, c, http.MethodPost, "/extensions", map[string]any{"id": "a"})
			body, _ := io.ReadAll(req.Body)
			tampered := strings.Replace(string(body), `"id":"a"`, `"id":"b"`, 1)
			req.Body, req.ContentLength = io.NopCloser(strings.NewReader(tampered)), int64(len(tampered))
			return req
		}, signing.CodeBadSignature},
		{"query changed", func(t *testing.T) *http.Request {
			req := mustBuild(t, c, http.MethodDelete, "/extensions/a", nil)
			req.URL.RawQuery += "&force=1"
			return req
		}, signing.CodeBadSignature},
		{"signature removed", func(t *testing.T) *http.Request {
			req := mustBuild(t, c, http.MethodGet, "/extensions/a", nil)
			req.Header.Del("X-Signature")
			return req
		}, signing.CodeMissingSignature},
		{"sent to another path", func(t *testing.T) *http.Request {
			req := mustBuild(t, c, http.MethodGet, "/extensions/a", nil)
			req.URL.Path, req.URL.RawPath = "/flyio/extensions/b", ""
			return req
		}, signing.CodeURLMismatch},
		{"stale clock", func(t *testing.T) *http.Request {
			stale := *c
			stale.Now = func() time.Time { return time.Now().Add(-time.Hour) }
			return mustBuild(t, &stale, http.MethodPatch, "/extensions/a", nil)
		}, signing.CodeStaleTimestamp},
		{"foreign url set by caller", func(t *testing.T) *http.Request {
			return mustBuild(t, c, http.MethodPost, "/extensions",
				map[string]any{"url": "https://other.example/flyio/extensions"})
		}, signing.CodeURLMismatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := tt.build(t).WithContext(ctx)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			data, _ := io.ReadAll(resp.Body)
			s := decodeSeen(t, &Response{StatusCode: resp.StatusCode, Body: data}, nil)
			if resp.StatusCode != http.StatusUnauthorized || s.Verdict != tt.wantCode {
				t.Fatalf("HTTP %d, verdict %q; want 401 %s", resp.StatusCode, s.Verdict, tt.wantCode)
			}
		})
	}
}

func mustBuild(t *testing.T, c *Client, method, path string, body map[string]any) *http.Request {
	t.Helper()
	req, err := c.SignedRequest(context.Background(), method, path, body)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func TestReplayIsRejected(t *testing.T) {
	srv := newGateway(t)
	c := newClient(srv)
	req := mustBuild(t, c, http.MethodGet, "/extensions/a", nil)
	for i, want := range []int{http.StatusOK, http.StatusUnauthorized} {
		resp, err := http.DefaultClient.Do(req.Clone(context.Background()))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Fatalf("send #%d: HTTP %d, want %d", i+1, resp.StatusCode, want)
		}
	}
}

func TestClientErrors(t *testing.T) {
	ctx := context.Background()
	for name, tc := range map[string]struct {
		c    Client
		call func(c *Client) error
	}{
		"no secret": {Client{BaseURL: "http://127.0.0.1:1/flyio"}, func(c *Client) error {
			_, err := c.Get(ctx, "a")
			return err
		}},
		"relative base URL": {Client{BaseURL: "/flyio", Secret: []byte("s")}, func(c *Client) error {
			_, err := c.Get(ctx, "a")
			return err
		}},
		"empty id": {Client{BaseURL: "http://127.0.0.1:1/flyio", Secret: []byte("s")}, func(c *Client) error {
			_, err := c.Delete(ctx, "")
			return err
		}},
		"query in path": {Client{BaseURL: "http://127.0.0.1:1/flyio", Secret: []byte("s")}, func(c *Client) error {
			_, err := c.Do(ctx, http.MethodGet, "/extensions?x=1", nil)
			return err
		}},
	} {
		t.Run(name, func(t *testing.T) {
			if err := tc.call(&tc.c); err == nil {
				t.Fatal("want an error")
			}
		})
	}
}

func TestResponseJSONNamesStatus(t *testing.T) {
	r := &Response{StatusCode: 502, Body: []byte("<html>bad gateway</html>")}
	var v map[string]any
	if err := r.JSON(&v); err == nil || !strings.Contains(err.Error(), "HTTP 502") {
		t.Fatalf("JSON error = %v, want one naming HTTP 502", err)
	}
}
