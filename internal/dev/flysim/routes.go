package flysim

import (
	"net/http"
	"strings"

	"github.com/jetway-dev/jetway/internal/dev/flysim/internal/respond"
	"github.com/jetway-dev/jetway/internal/dev/flysim/machines"
)

// routes mounts every simulator on s.mux. Fly's own routes come first; the
// control API, under /flysim/v1/, is guarded by the Machines API token
// throughout.
func (s *Server) routes() {
	s.machines.Register(s.mux) // /v1/..., and the catch-all for unknown paths
	s.hooks.Register(s.mux)
	if s.oauth != nil {
		s.oauth.Register(s.mux)
	} else {
		// Off: 404 as for any unknown route, without first asking for the
		// Machines API token as the catch-all would.
		s.mux.HandleFunc("/oauth/", func(w http.ResponseWriter, _ *http.Request) {
			respond.Write(w, respond.Err(http.StatusNotFound, "not found"))
		})
	}

	guard := s.machines.RequireToken
	s.machines.RegisterControl(s.mux, guard)
	s.hooks.RegisterControl(s.mux, guard)
	s.events.RegisterControl(s.mux, guard)
	control := func(pattern string, h func(*http.Request) respond.Reply) {
		s.mux.Handle(pattern, guard(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			respond.Write(w, h(r))
		})))
	}
	control("GET "+machines.ControlPrefix+"faults", s.getFaultsControl)
	control("PUT "+machines.ControlPrefix+"faults", s.putFaultsControl)
	control("/flysim/", func(r *http.Request) respond.Reply {
		switch strings.TrimPrefix(r.URL.Path, machines.ControlPrefix) {
		case "faults", "stats", "webhooks", "webhook-failure", "events":
			return respond.Err(http.StatusMethodNotAllowed, "method not allowed: "+r.Method+" "+r.URL.Path)
		}
		return respond.Err(http.StatusNotFound, "not found")
	})
}

// The faults are the composition's to change over HTTP because they span
// two simulators: the Machines API's failure modes and the event sender's
// duplicates.

func (s *Server) getFaultsControl(*http.Request) respond.Reply {
	return respond.JSON(http.StatusOK, s.Faults())
}

// putFaultsControl replaces the faults in force (fields left out are zero,
// as PUT means) and answers with what is now in force, seed included.
func (s *Server) putFaultsControl(r *http.Request) respond.Reply {
	var f Faults
	if err := respond.DecodeBody(r, &f, true); err != nil {
		return respond.BadBody(err)
	}
	if err := f.Validate(); err != nil {
		return respond.BadBody(err)
	}
	s.SetFaults(f)
	return respond.JSON(http.StatusOK, s.Faults())
}
