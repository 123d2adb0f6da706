package flysim

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
)

// The machine events' control endpoints, behind the bearer token like the
// rest of /flysim/v1/:
//
//	GET /flysim/v1/events  {"url":"...","signed":true,"sent":n,"failed":n,
//	                        "retries":n,"duplicated":n,"queued":n,"last_error":"..."}
//	PUT /flysim/v1/events  {"url":"http://127.0.0.1:8080/flyio/extensions/events","secret":"..."}
//	                       ({"url":""} turns events off; the secret is never shown)

type eventsConfigJSON struct {
	URL    string `json:"url"`
	Secret string `json:"secret"`
}

func (s *Server) getEventsControl(*http.Request) reply {
	return jsonReply(http.StatusOK, s.EventsStatus())
}

func (s *Server) putEventsControl(r *http.Request) reply {
	var in eventsConfigJSON
	if err := decodeBody(r, &in, true); err != nil {
		if errors.Is(err, errNoBody) {
			return badBody(errors.New(`body must be {"url":"<provider events URL>","secret":"<shared secret>"}; {"url":""} turns events off`))
		}
		return badBody(err)
	}
	if err := ValidateEventsURL(in.URL); err != nil {
		return badBody(err)
	}
	s.SetEventsURL(in.URL, in.Secret)
	return jsonReply(http.StatusOK, s.EventsStatus())
}

// ValidateEventsURL reports whether raw can be Options.EventsURL: empty
// (no events), or an absolute http or https URL.
func ValidateEventsURL(raw string) error {
	if raw == "" {
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("events url %q is not an absolute http or https URL", raw)
	}
	return nil
}
