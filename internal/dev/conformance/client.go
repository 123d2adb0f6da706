package conformance

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// tweak bends one rule of a signed request, so a check can see the
// provider refuse it. The zero tweak is a correct request, as Fly sends it.
type tweak struct {
	unsigned     bool                  // no X-Signature at all
	secret       []byte                // sign with this secret instead
	omit         string                // leave out this signing parameter
	timestampAdj time.Duration         // move the timestamp this far from now
	url          string                // sign this url instead of the target's
	tamper       func(b []byte) []byte // change the signed bytes after signing
}

// sent is a request as it went out, so it can be replayed byte for byte.
type sent struct {
	method, url string
	body        []byte
	signature   string
}

// answer is what the provider said.
type answer struct {
	code    int
	header  http.Header
	body    []byte
	elapsed time.Duration
}

// object decodes the body as a JSON object; nil when it is not one.
func (a *answer) object() map[string]any {
	var m map[string]any
	if json.Unmarshal(a.body, &m) != nil {
		return nil
	}
	return m
}

// str is a string field of the body's object ("" when absent).
func (a *answer) str(field string) string {
	s, _ := a.object()[field].(string)
	return s
}

func (a *answer) String() string {
	body := strings.TrimSpace(string(a.body))
	if len(body) > 160 {
		body = body[:160] + "…"
	}
	return fmt.Sprintf("HTTP %d %s", a.code, body)
}

// target is the full URL of a path under the base URL.
func (s *Suite) target(path string) string {
	return strings.TrimSuffix(s.cfg.BaseURL, "/") + path
}

// build signs a request as Fly's page describes: for POST and PATCH the
// signing parameters are body fields and the raw body is signed; for GET
// and DELETE they are query parameters (after query's own) and the raw
// query string is signed.
func (s *Suite) build(method, path string, fields map[string]any, query url.Values, tw tweak) sent {
	target := s.target(path)
	params := []struct {
		name  string
		value any
	}{
		{"timestamp", time.Now().Add(tw.timestampAdj).Unix()},
		{"nonce", randomHex(16)},
		{"url", target},
	}
	if tw.url != "" {
		params[2].value = tw.url
	}
	secret := s.cfg.Secret
	if tw.secret != nil {
		secret = tw.secret
	}
	out := sent{method: method, url: target}
	var signed []byte
	if method == http.MethodPost || method == http.MethodPatch {
		body := map[string]any{}
		for k, v := range fields {
			body[k] = v
		}
		for _, p := range params {
			if p.name != tw.omit {
				body[p.name] = p.value
			}
		}
		signed, _ = json.Marshal(body) // maps of JSON values always marshal
		out.body = signed
	} else {
		// The raw query in a fixed order: a provider must verify the bytes
		// it got, not a re-encoding of them.
		var parts []string
		if enc := query.Encode(); enc != "" {
			parts = append(parts, enc)
		}
		for _, p := range params {
			if p.name != tw.omit {
				v := p.value
				if n, ok := v.(int64); ok {
					v = strconv.FormatInt(n, 10)
				}
				parts = append(parts, p.name+"="+url.QueryEscape(v.(string)))
			}
		}
		signed = []byte(strings.Join(parts, "&"))
		out.url = target + "?" + string(signed)
	}
	if !tw.unsigned {
		out.signature = mac(secret, signed)
	}
	if tw.tamper != nil {
		if out.body != nil {
			out.body = tw.tamper(out.body)
		} else {
			out.url = target + "?" + string(tw.tamper(signed))
		}
	}
	return out
}

// do sends (or resends) a request.
func (s *Suite) do(ctx context.Context, r sent) (*answer, error) {
	var body io.Reader
	if r.body != nil {
		body = bytes.NewReader(r.body)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, r.url, body)
	if err != nil {
		return nil, err
	}
	if r.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	if r.signature != "" {
		req.Header.Set(signatureHeader, r.signature)
	}
	start := time.Now()
	resp, err := s.cfg.HTTP.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", r.method, stripQuery(r.url), err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("%s %s: read answer: %w", r.method, stripQuery(r.url), err)
	}
	return &answer{code: resp.StatusCode, header: resp.Header, body: b, elapsed: time.Since(start)}, nil
}

// call builds and sends a request in one go.
func (s *Suite) call(ctx context.Context, method, path string, fields map[string]any, query url.Values, tw tweak) (*answer, error) {
	return s.do(ctx, s.build(method, path, fields, query, tw))
}

func (s *Suite) get(ctx context.Context, id string) (*answer, error) {
	return s.call(ctx, http.MethodGet, extPath(id), nil, nil, tweak{})
}

func (s *Suite) delete(ctx context.Context, id string) (*answer, error) {
	return s.call(ctx, http.MethodDelete, extPath(id), nil, nil, tweak{})
}

func (s *Suite) patch(ctx context.Context, id string, fields map[string]any) (*answer, error) {
	return s.call(ctx, http.MethodPatch, extPath(id), fields, nil, tweak{})
}

func extPath(id string) string { return "/extensions/" + url.PathEscape(id) }

func stripQuery(u string) string {
	if i := strings.IndexByte(u, '?'); i >= 0 {
		return u[:i]
	}
	return u
}
