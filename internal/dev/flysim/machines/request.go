package machines

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/jetway-dev/jetway/internal/dev/flysim/internal/respond"
)

// Request helpers only the Machines API needs; rendering answers is
// internal/respond's.

// bufferBody reads the request body into memory up front. net/http only
// notices a client hanging up once the body has been read to the end; until
// then r.Context() never ends, and a request held by latency or a hang
// would keep its goroutine after the client left.
func bufferBody(r *http.Request) {
	raw, err := io.ReadAll(io.LimitReader(r.Body, respond.MaxBody+1))
	_ = r.Body.Close()
	if err != nil {
		r.Body = io.NopCloser(errReader{err})
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(raw))
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

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
func decodeValue(r *http.Request) (string, *respond.Reply) {
	var in struct {
		Value *string `json:"value"`
	}
	if err := respond.DecodeBody(r, &in, true); err != nil {
		rp := respond.BadBody(err)
		return "", &rp
	}
	if in.Value == nil {
		rp := respond.BadBody(errors.New(`body must be {"value": "<string>"}`))
		return "", &rp
	}
	return *in.Value, nil
}
