// Package respond renders the JSON answers every flysim simulator gives.
// Handlers build a Reply while holding their lock and write it after
// releasing it, so the encoding never races with a timer changing the same
// state and a slow client never blocks the others.
package respond

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
)

// Reply is a fully rendered response.
type Reply struct {
	Code   int
	Body   []byte
	Header http.Header // extra response headers, e.g. Retry-After
}

// MaxBody bounds every request body; flaps rejects large bodies too, and
// 1 MiB is plenty for a machine config or a webhook.
const MaxBody = 1 << 20

// flyError is the error body flaps returns and fly-go's FlapsError parses:
// fly-go surfaces "error" as the error text and "status" as StatusCode().
// Fly only fills "status" for a few machine-readable cases (name_taken,
// insufficient_capacity), so it is omitted otherwise.
type flyError struct {
	Error  string `json:"error"`
	Status string `json:"status,omitempty"`
}

// JSON renders v with code.
func JSON(code int, v any) Reply {
	b, err := json.Marshal(v)
	if err != nil {
		return Err(http.StatusInternalServerError, "internal: "+err.Error())
	}
	return Reply{Code: code, Body: b}
}

// Err is Fly's error body, {"error": msg}.
func Err(code int, msg string) Reply { return JSON(code, flyError{Error: msg}) }

// ErrStatus is Fly's error body with its machine-readable status.
func ErrStatus(code int, msg, status string) Reply {
	return JSON(code, flyError{Error: msg, Status: status})
}

// Empty is a reply without a body.
func Empty(code int) Reply { return Reply{Code: code} }

// OK is {"ok":true}.
func OK() Reply { return JSON(http.StatusOK, map[string]bool{"ok": true}) }

// Write sends rp. Answers are JSON unless rp says otherwise, as Fly's are.
func Write(w http.ResponseWriter, rp Reply) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	for k, vs := range rp.Header {
		h[k] = vs
	}
	if rp.Body != nil {
		h.Set("Content-Length", strconv.Itoa(len(rp.Body)))
	}
	w.WriteHeader(rp.Code)
	if rp.Body != nil {
		_, _ = w.Write(rp.Body)
	}
}

// ErrNoBody is DecodeBody's answer to a required body that is empty.
var ErrNoBody = errors.New("request body is required")

// DecodeBody reads a JSON body into v. With required=false an empty body is
// fine (fly-go sends none for start, lease, cordon...). Trailing garbage
// after the JSON value is rejected: Fly's decoder would, and it hides
// client bugs.
func DecodeBody(r *http.Request, v any, required bool) error {
	raw, err := io.ReadAll(io.LimitReader(r.Body, MaxBody+1))
	if err != nil {
		return fmt.Errorf("reading request body: %w", err)
	}
	if len(raw) > MaxBody {
		return errors.New("request body too large")
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		if required {
			return ErrNoBody
		}
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("invalid JSON body: %w", err)
	}
	if dec.More() {
		return errors.New("invalid JSON body: trailing data after object")
	}
	return nil
}

// BadBody is the 400 for a request body that does not decode or validate.
func BadBody(err error) Reply {
	return Err(http.StatusBadRequest, "invalid_argument: "+err.Error())
}
