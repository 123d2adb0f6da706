package flysim

import (
	"net/http"
	"strings"
)

// The control API lets tools outside the process (a load generator, a
// chaos script, the flysim command's operator) change faults and read
// counters while the simulator runs. It lives under /flysim/, a path fly-go
// never calls, and takes the same bearer token as the Machines API. It is
// not Fly: no latency, rate limits or faults apply, and its requests are not
// counted in Stats.

const controlPrefix = "/flysim/v1/"

func (s *Server) controlRoutes() {
	s.control("GET "+controlPrefix+"faults", s.getFaultsControl)
	s.control("PUT "+controlPrefix+"faults", s.putFaultsControl)
	s.control("GET "+controlPrefix+"stats", s.getStatsControl)
	s.control("GET "+controlPrefix+"webhooks", s.getWebhooksControl)
	s.control("GET "+controlPrefix+"webhook-failure", s.getWebhookFailureControl)
	s.control("PUT "+controlPrefix+"webhook-failure", s.putWebhookFailureControl)
	s.control("GET "+controlPrefix+"events", s.getEventsControl)
	s.control("PUT "+controlPrefix+"events", s.putEventsControl)
	s.control("POST "+controlPrefix+"apps/{app}/traffic", s.trafficControl)
	s.control("POST "+controlPrefix+"apps/{app}/machines/{id}/wedge", s.wedgeControl)
	s.control(controlPrefix+"apps/{app}/traffic", func(r *http.Request) reply {
		return errReply(http.StatusMethodNotAllowed, "method not allowed: "+r.Method+" "+r.URL.Path)
	})
	s.control("/flysim/", func(r *http.Request) reply {
		switch strings.TrimPrefix(r.URL.Path, controlPrefix) {
		case "faults", "stats", "webhooks", "webhook-failure", "events":
			return errReply(http.StatusMethodNotAllowed, "method not allowed: "+r.Method+" "+r.URL.Path)
		}
		return errReply(http.StatusNotFound, "not found")
	})
}

func (s *Server) control(pattern string, h func(*http.Request) reply) {
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		if !s.authorized(r) {
			writeReply(w, errReply(http.StatusUnauthorized, "unauthorized"))
			return
		}
		writeReply(w, h(r))
	})
}

func (s *Server) getFaultsControl(*http.Request) reply {
	return jsonReply(http.StatusOK, s.Faults())
}

// putFaultsControl replaces the faults in force (fields left out are zero,
// as PUT means) and answers with what is now in force, seed included.
func (s *Server) putFaultsControl(r *http.Request) reply {
	var f Faults
	if err := decodeBody(r, &f, true); err != nil {
		return badBody(err)
	}
	if err := f.Validate(); err != nil {
		return badBody(err)
	}
	s.SetFaults(f)
	return jsonReply(http.StatusOK, s.Faults())
}

func (s *Server) getStatsControl(*http.Request) reply {
	return jsonReply(http.StatusOK, s.Stats())
}

// wedgeControl leaves a machine stuck in "starting" (see WedgeMachine), to
// watch a provider deal with a wedged machine.
func (s *Server) wedgeControl(r *http.Request) reply {
	if err := s.WedgeMachine(r.PathValue("app"), r.PathValue("id")); err != nil {
		return errReply(http.StatusNotFound, err.Error())
	}
	return okReply()
}
