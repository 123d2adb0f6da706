package flyside

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jetway-dev/jetway/internal/dev/flysign"
)

// signedParams are the fields Fly adds to every request, in the order Fly's
// docs list them (flysign.ParamNames). The query string keeps this order
// rather than url.Values' sorted order, so a gateway that re-encodes the
// query instead of verifying the raw bytes fails our tests, as it would
// fail with Fly.
var signedParams = flysign.ParamNames

// SignedRequest builds a signed request without sending it, so tests can
// tamper with it first.
//
// POST, PUT and PATCH carry body as JSON; the signing fields url (BaseURL +
// path), nonce (16 random bytes, hex) and timestamp (unix seconds, a JSON
// number) are added, and the exact marshalled bytes are signed. Other methods
// carry the signing fields, then body's entries (formatted with fmt), in the
// query string, and the raw query string is signed. In both cases a signing
// field the caller put in body wins, so a test can send a string timestamp or
// a foreign url and still have it correctly signed. body is not modified.
func (c *Client) SignedRequest(ctx context.Context, method, path string, body map[string]any) (*http.Request, error) {
	method = strings.ToUpper(method)
	if len(c.Secret) == 0 {
		return nil, fmt.Errorf("build %s %s: no shared secret", method, path)
	}
	target, err := c.target(path)
	if err != nil {
		return nil, fmt.Errorf("build %s %s: %w", method, path, err)
	}
	nonce, err := newNonce()
	if err != nil {
		return nil, fmt.Errorf("build %s %s: %w", method, path, err)
	}
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	params := map[string]any{"timestamp": now().Unix(), "nonce": nonce, "url": target}

	var payload []byte
	var reqBody io.Reader
	reqURL := target
	hasBody := method == http.MethodPost || method == http.MethodPut || method == http.MethodPatch
	if hasBody {
		fields := maps.Clone(body)
		if fields == nil {
			fields = map[string]any{}
		}
		for k, v := range params {
			if _, set := fields[k]; !set {
				fields[k] = v
			}
		}
		payload, err = json.Marshal(fields)
		if err != nil {
			return nil, fmt.Errorf("build %s %s: encode body: %w", method, path, err)
		}
		reqBody = bytes.NewReader(payload)
	} else {
		payload = []byte(rawQuery(params, body))
		reqURL = target + "?" + string(payload)
	}

	req, err := http.NewRequestWithContext(ctx, method, reqURL, reqBody)
	if err != nil {
		return nil, fmt.Errorf("build %s %s: %w", method, path, err)
	}
	if hasBody {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "jetway-flyside")
	req.Header.Set("X-Signature", flysign.Sign(c.Secret, payload))
	return req, nil
}

// target is BaseURL + path, validated, without a query: the value of the
// signed "url" field.
func (c *Client) target(path string) (string, error) {
	if strings.ContainsAny(path, "?#") {
		return "", fmt.Errorf("path %q must not contain a query or fragment", path)
	}
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	target := strings.TrimRight(c.BaseURL, "/") + path
	u, err := url.Parse(target)
	if err != nil {
		return "", fmt.Errorf("invalid gateway URL: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("gateway URL %q must be an absolute http(s) URL without a query", c.BaseURL)
	}
	return target, nil
}

// rawQuery encodes params in signedParams order, overridden by and followed
// by extra's entries in sorted order.
func rawQuery(params, extra map[string]any) string {
	var parts []string
	add := func(k string, v any) {
		parts = append(parts, url.QueryEscape(k)+"="+url.QueryEscape(queryValue(v)))
	}
	for _, k := range signedParams {
		if v, set := extra[k]; set {
			add(k, v)
		} else {
			add(k, params[k])
		}
	}
	for _, k := range slices.Sorted(maps.Keys(extra)) {
		if !slices.Contains(signedParams, k) {
			add(k, extra[k])
		}
	}
	return strings.Join(parts, "&")
}

func queryValue(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case int64:
		return strconv.FormatInt(v, 10)
	default:
		return fmt.Sprint(v)
	}
}

func newNonce() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generate nonce: %w", err)
	}
	return hex.EncodeToString(b), nil
}
