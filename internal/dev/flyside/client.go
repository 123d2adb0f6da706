// Package flyside plays Fly.io's side of the Extensions provisioning API:
// it builds and signs requests exactly as Jetway's gateway expects Fly to
// send them. The `jetway-dev fly` command and the integration tests use it, so
// the gateway is always exercised through the real signing contract.
package flyside

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

// Client sends signed requests to a provider gateway.
type Client struct {
	// BaseURL is the gateway's Fly-facing base, e.g. http://127.0.0.1:8080/flyio.
	BaseURL string
	// Secret is the shared provisioning secret.
	Secret []byte
	// HTTP sends the requests; nil means a client with a 30 s timeout.
	HTTP *http.Client
	// Now stamps requests; nil means time.Now. Tests set it to make stale
	// requests.
	Now func() time.Time
}

// Response is a gateway answer. Non-2xx answers are responses, not errors,
// because callers (and tests) want to see what the gateway said.
type Response struct {
	StatusCode int
	Body       []byte
}

// JSON decodes the body into v.
func (r *Response) JSON(v any) error {
	if err := json.Unmarshal(r.Body, v); err != nil {
		return fmt.Errorf("decode HTTP %d response: %w", r.StatusCode, err)
	}
	return nil
}

// defaultHTTP bounds every call: a hung gateway must not hang the CLI or a test.
var defaultHTTP = &http.Client{Timeout: 30 * time.Second}

// maxResponse caps how much of an answer we keep; gateway answers are small.
const maxResponse = 10 << 20

// Create provisions an extension: POST {base}/extensions.
func (c *Client) Create(ctx context.Context, req map[string]any) (*Response, error) {
	return c.Do(ctx, http.MethodPost, "/extensions", req)
}

// Get reads an extension: GET {base}/extensions/{id}.
func (c *Client) Get(ctx context.Context, id string) (*Response, error) {
	path, err := extensionPath(id)
	if err != nil {
		return nil, err
	}
	return c.Do(ctx, http.MethodGet, path, nil)
}

// Update changes an extension: PATCH {base}/extensions/{id}.
func (c *Client) Update(ctx context.Context, id string, fields map[string]any) (*Response, error) {
	path, err := extensionPath(id)
	if err != nil {
		return nil, err
	}
	return c.Do(ctx, http.MethodPatch, path, fields)
}

// Delete removes an extension: DELETE {base}/extensions/{id}.
func (c *Client) Delete(ctx context.Context, id string) (*Response, error) {
	path, err := extensionPath(id)
	if err != nil {
		return nil, err
	}
	return c.Do(ctx, http.MethodDelete, path, nil)
}

func extensionPath(id string) (string, error) {
	if id == "" {
		return "", fmt.Errorf("extension id is empty")
	}
	return "/extensions/" + url.PathEscape(id), nil
}

// Do signs and sends one request. path is relative to BaseURL and already
// escaped (e.g. "/extensions/abc"); see SignedRequest for body handling.
func (c *Client) Do(ctx context.Context, method, path string, body map[string]any) (*Response, error) {
	req, err := c.SignedRequest(ctx, method, path, body)
	if err != nil {
		return nil, err
	}
	hc := c.HTTP
	if hc == nil {
		hc = defaultHTTP
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("call gateway: %w", err) // *url.Error already names method and URL
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return nil, fmt.Errorf("%s %s: read response: %w", method, req.URL.Redacted(), err)
	}
	return &Response{StatusCode: resp.StatusCode, Body: data}, nil
}
