package events

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/jetway-dev/jetway/internal/dev/flysim/internal/respond"
)

// The sender's part of flysim's control API:
//
//	GET /flysim/v1/events  {"url":"...","signed":true,"sent":n,"failed":n,
//	                        "retries":n,"duplicated":n,"queued":n,"last_error":"..."}
//	PUT /flysim/v1/events  {"url":"http://127.0.0.1:8080/flyio/extensions/events","secret":"..."}
//	                       ({"url":""} turns events off; the secret is never shown)

// RegisterControl mounts the routes above on mux, each behind guard.
func (s *Sender) RegisterControl(mux *http.ServeMux, guard func(http.Handler) http.Handler) {
	control := func(pattern string, fn func(*http.Request) respond.Reply) {
		mux.Handle(pattern, guard(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			respond.Write(w, fn(r))
		})))
	}
	control("GET /flysim/v1/events", s.getControl)
	control("PUT /flysim/v1/events", s.putControl)
}

type configJSON struct {
	URL    string `json:"url"`
	Secret string `json:"secret"`
}

func (s *Sender) getControl(*http.Request) respond.Reply {
	return respond.JSON(http.StatusOK, s.Status())
}

func (s *Sender) putControl(r *http.Request) respond.Reply {
	var in configJSON
	if err := respond.DecodeBody(r, &in, true); err != nil {
		if errors.Is(err, respond.ErrNoBody) {
			return respond.BadBody(errors.New(`body must be {"url":"<provider events URL>","secret":"<shared secret>"}; {"url":""} turns events off`))
		}
		return respond.BadBody(err)
	}
	if err := ValidateURL(in.URL); err != nil {
		return respond.BadBody(err)
	}
	s.SetURL(in.URL, in.Secret)
	return respond.JSON(http.StatusOK, s.Status())
}

// ValidateURL reports whether raw can be where events go: empty (no
// events), or an absolute http or https URL.
func ValidateURL(raw string) error {
	if raw == "" {
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("events url %q is not an absolute http or https URL", raw)
	}
	return nil
}
