package flysim

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
)

// apiError is the error body flaps returns and fly-go's FlapsError parses:
// fly-go surfaces "error" as the error text and "status" as StatusCode().
// Fly only fills "status" for a few machine-readable cases (name_taken,
// insufficient_capacity), so it is omitted otherwise.
type apiError struct {
	Error  string `json:"error"`
	Status string `json:"status,omitempty"`
}

const maxBody = 1 << 20 // flaps rejects large bodies too; 1 MiB is plenty for a machine config

func jsonReply(code int, v any) reply {
	b, err := json.Marshal(v)
	if err != nil {
		return errReply(http.StatusInternalServerError, "internal: "+err.Error())
	}
	return reply{code: code, body: b}
}

func errReply(code int, msg string) reply {
	return jsonReply(code, apiError{Error: msg})
}

func statusReply(code int, msg, status string) reply {
	return jsonReply(code, apiError{Error: msg, Status: status})
}

func emptyReply(code int) reply { return reply{code: code} }

func okReply() reply { return jsonReply(http.StatusOK, map[string]bool{"ok": true}) }

func writeReply(w http.ResponseWriter, rp reply) {
	for k, vs := range rp.header {
		w.Header()[k] = vs
	}
	if rp.body != nil {
		w.Header().Set("Content-Length", strconv.Itoa(len(rp.body)))
	}
	w.WriteHeader(rp.code)
	if rp.body != nil {
		_, _ = w.Write(rp.body)
	}
}

// bufferBody reads the request body into memory up front. net/http only
// notices a client hanging up once the body has been read to the end; until
// then r.Context() never ends, and a request held by latency or a hang
// would keep its goroutine after the client left.
func bufferBody(r *http.Request) {
	raw, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	_ = r.Body.Close()
	if err != nil {
		r.Body = io.NopCloser(errReader{err})
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(raw))
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

var errNoBody = errors.New("request body is required")

// decodeBody reads a JSON body into v. With required=false an empty body is
// fine (fly-go sends none for start, lease, cordon...). Trailing garbage after
// the JSON value is rejected: Fly's decoder would, and it hides client bugs.
func decodeBody(r *http.Request, v any, required bool) error {
	raw, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return fmt.Errorf("reading request body: %w", err)
	}
	if len(raw) > maxBody {
		return errors.New("request body too large")
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		if required {
			return errNoBody
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

func badBody(err error) reply {
	return errReply(http.StatusBadRequest, "invalid_argument: "+err.Error())
}

// parseBoolParam accepts what strconv does; anything else is a client bug.
func parseBoolParam(r *http.Request, name string) (bool, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, fmt.Errorf("query parameter %s=%q is not a boolean", name, v)
	}
	return b, nil
}

// decodeValue reads a {"value": "<string>"} body, as metadata and secret
// writes take. A body without "value" is refused rather than taken as "".
func decodeValue(r *http.Request) (string, *reply) {
	var in struct {
		Value *string `json:"value"`
	}
	if err := decodeBody(r, &in, true); err != nil {
		rp := badBody(err)
		return "", &rp
	}
	if in.Value == nil {
		rp := badBody(errors.New(`body must be {"value": "<string>"}`))
		return "", &rp
	}
	return *in.Value, nil
}
