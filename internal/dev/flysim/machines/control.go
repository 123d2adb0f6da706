package machines

import (
	"errors"
	"net/http"

	"github.com/jetway-dev/jetway/internal/dev/flysim/internal/respond"
)

// The Machines API's part of the control API, for tools outside the process
// (a load generator, a chaos script, the flysim command's operator):
//
//	GET  /flysim/v1/stats                               Stats
//	POST /flysim/v1/apps/{app}/traffic                  Traffic
//	POST /flysim/v1/apps/{app}/machines/{id}/wedge      WedgeMachine
//	GET  /flysim/v1/regions/{region}/volume-capacity    VolumeCapacity
//	PUT  /flysim/v1/regions/{region}/volume-capacity    SetVolumeCapacity, {"available": false}
//	GET  /flysim/v1/check-failures                      CheckFailures
//	PUT  /flysim/v1/check-failures                      SetCheckFailures, {"images": [...], "machines": [{"app", "id"}]}
//
// It is not Fly: no latency, rate limits or faults apply, and its requests
// are not counted in Stats. Faults are changed through flysim, which hands
// the event sender its share of them.

// ControlPrefix is where the control API lives, a path fly-go never calls.
const ControlPrefix = "/flysim/v1/"

// RegisterControl mounts the routes above on mux, each behind guard.
func (s *Server) RegisterControl(mux *http.ServeMux, guard func(http.Handler) http.Handler) {
	control := func(pattern string, h func(*http.Request) respond.Reply) {
		mux.Handle(pattern, guard(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			respond.Write(w, h(r))
		})))
	}
	control("GET "+ControlPrefix+"stats", s.getStatsControl)
	control("POST "+ControlPrefix+"apps/{app}/traffic", s.trafficControl)
	control("POST "+ControlPrefix+"apps/{app}/machines/{id}/wedge", s.wedgeControl)
	control("GET "+ControlPrefix+"regions/{region}/volume-capacity", s.getVolumeCapacityControl)
	control("PUT "+ControlPrefix+"regions/{region}/volume-capacity", s.putVolumeCapacityControl)
	control("GET "+ControlPrefix+"check-failures", s.getCheckFailuresControl)
	control("PUT "+ControlPrefix+"check-failures", s.putCheckFailuresControl)
	notAllowed := func(r *http.Request) respond.Reply {
		return respond.Err(http.StatusMethodNotAllowed, "method not allowed: "+r.Method+" "+r.URL.Path)
	}
	control(ControlPrefix+"apps/{app}/traffic", notAllowed)
	control(ControlPrefix+"regions/{region}/volume-capacity", notAllowed)
	control(ControlPrefix+"check-failures", notAllowed)
}

// volumeCapacity is the body of the volume-capacity control route.
type volumeCapacity struct {
	Region    string `json:"region"`
	Available *bool  `json:"available"`
}

func (s *Server) getVolumeCapacityControl(r *http.Request) respond.Reply {
	region := r.PathValue("region")
	if !validRegion(region) {
		return respond.Err(http.StatusNotFound, "unknown region "+region)
	}
	available := s.VolumeCapacity(region)
	return respond.JSON(http.StatusOK, volumeCapacity{Region: region, Available: &available})
}

// putVolumeCapacityControl fills or frees a region's volume hosts (see
// SetVolumeCapacity) and answers with what is now in force.
func (s *Server) putVolumeCapacityControl(r *http.Request) respond.Reply {
	var in struct {
		Available *bool `json:"available"`
	}
	if err := respond.DecodeBody(r, &in, true); err != nil {
		return respond.BadBody(err)
	}
	if in.Available == nil {
		return respond.BadBody(errors.New(`body must be {"available": true|false}`))
	}
	if err := s.SetVolumeCapacity(r.PathValue("region"), *in.Available); err != nil {
		return respond.Err(http.StatusNotFound, err.Error())
	}
	return s.getVolumeCapacityControl(r)
}

func (s *Server) getStatsControl(*http.Request) respond.Reply {
	return respond.JSON(http.StatusOK, s.Stats())
}

// wedgeControl leaves a machine stuck in "starting" (see WedgeMachine), to
// watch a provider deal with a wedged machine.
func (s *Server) wedgeControl(r *http.Request) respond.Reply {
	if err := s.WedgeMachine(r.PathValue("app"), r.PathValue("id")); err != nil {
		return respond.Err(http.StatusNotFound, err.Error())
	}
	return respond.OK()
}
