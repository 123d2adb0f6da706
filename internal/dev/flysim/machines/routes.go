package machines

import (
	"net/http"
	"time"

	"github.com/jetway-dev/jetway/internal/dev/flysim/internal/respond"
)

// Register mounts on mux every endpoint fly-go's flaps.Client calls, and a
// catch-all for everything else: on Fly, an unknown path still needs the
// token first. The action name is what Requests() counts.
func (s *Server) Register(mux *http.ServeMux) {
	handle := func(pattern, action string, h func(*http.Request) respond.Reply) {
		mux.HandleFunc(pattern, s.plumbed(action, h))
	}

	// Apps.
	handle("POST /v1/apps", "app_create", s.createApp)
	handle("GET /v1/apps", "app_list", s.listApps)
	handle("GET /v1/apps/{app}", "app_get", s.getApp)
	handle("DELETE /v1/apps/{app}", "app_delete", s.deleteApp)

	// Machines.
	handle("POST /v1/apps/{app}/machines", "machine_create", s.createMachine)
	handle("GET /v1/apps/{app}/machines", "machine_list", s.listMachines)
	handle("GET /v1/apps/{app}/machines/{id}", "machine_get", s.getMachine)
	handle("POST /v1/apps/{app}/machines/{id}", "machine_update", s.updateMachine)
	handle("DELETE /v1/apps/{app}/machines/{id}", "machine_destroy", s.destroyMachine)
	handle("POST /v1/apps/{app}/machines/{id}/start", "machine_start", s.startMachine)
	handle("POST /v1/apps/{app}/machines/{id}/stop", "machine_stop", s.stopMachine)
	handle("POST /v1/apps/{app}/machines/{id}/suspend", "machine_suspend", s.suspendMachine)
	handle("POST /v1/apps/{app}/machines/{id}/restart", "machine_restart", s.restartMachine)
	handle("POST /v1/apps/{app}/machines/{id}/cordon", "machine_cordon", s.cordonMachine)
	handle("POST /v1/apps/{app}/machines/{id}/uncordon", "machine_uncordon", s.uncordonMachine)
	handle("GET /v1/apps/{app}/machines/{id}/wait", "machine_wait", s.waitMachine)
	handle("GET /v1/apps/{app}/machines/{id}/events", "machine_events", s.machineEvents)
	handle("GET /v1/apps/{app}/machines/{id}/metadata", "metadata_get", s.getMetadata)
	handle("POST /v1/apps/{app}/machines/{id}/metadata/{key}", "metadata_set", s.setMetadata)
	handle("DELETE /v1/apps/{app}/machines/{id}/metadata/{key}", "metadata_delete", s.deleteMetadata)
	handle("POST /v1/apps/{app}/machines/{id}/lease", "lease_acquire", s.acquireLease)
	handle("GET /v1/apps/{app}/machines/{id}/lease", "lease_get", s.getLease)
	handle("DELETE /v1/apps/{app}/machines/{id}/lease", "lease_release", s.releaseLease)
	// Real endpoints the simulator deliberately does not model: say so
	// instead of faking a success a controller might come to rely on.
	handle("POST /v1/apps/{app}/machines/{id}/signal", "machine_signal", s.unimplemented)
	handle("POST /v1/apps/{app}/machines/{id}/exec", "machine_exec", s.unimplemented)
	handle("GET /v1/apps/{app}/machines/{id}/ps", "machine_ps", s.unimplemented)

	// Volumes. fly-go updates with PUT, the spec says POST: both are served.
	handle("POST /v1/apps/{app}/volumes", "volume_create", s.createVolume)
	handle("GET /v1/apps/{app}/volumes", "volume_list", s.listVolumes)
	handle("GET /v1/apps/{app}/volumes/{volume}", "volume_get", s.getVolume)
	handle("PUT /v1/apps/{app}/volumes/{volume}", "volume_update", s.updateVolume)
	handle("POST /v1/apps/{app}/volumes/{volume}", "volume_update", s.updateVolume)
	handle("DELETE /v1/apps/{app}/volumes/{volume}", "volume_delete", s.deleteVolume)
	handle("PUT /v1/apps/{app}/volumes/{volume}/extend", "volume_extend", s.extendVolume)
	handle("GET /v1/apps/{app}/volumes/{volume}/snapshots", "volume_snapshot_list", s.listSnapshots)
	handle("POST /v1/apps/{app}/volumes/{volume}/snapshots", "volume_snapshot_create", s.createSnapshot)

	// IP assignments.
	handle("GET /v1/apps/{app}/ip_assignments", "ip_assignment_list", s.listIPs)
	handle("POST /v1/apps/{app}/ip_assignments", "ip_assignment_create", s.assignIP)
	handle("DELETE /v1/apps/{app}/ip_assignments/{ip}", "ip_assignment_delete", s.deleteIP)

	// Secrets.
	handle("GET /v1/apps/{app}/secrets", "secrets_list", s.listSecrets)
	handle("POST /v1/apps/{app}/secrets", "secrets_update", s.updateSecrets)
	handle("GET /v1/apps/{app}/secrets/{name}", "secret_get", s.getSecret)
	handle("POST /v1/apps/{app}/secrets/{name}", "secret_set", s.setSecret)
	handle("DELETE /v1/apps/{app}/secrets/{name}", "secret_delete", s.deleteSecret)

	// Platform.
	handle("GET /v1/platform/regions", "regions_get", s.getRegions)

	// Everything else, including a known path with the wrong method.
	handle("/", "unknown", func(*http.Request) respond.Reply {
		return respond.Err(http.StatusNotFound, "not found")
	})
}

// plumbed puts h behind the per-request plumbing, in the order a request
// meets it on Fly: counting (so a rejected request still shows up in
// Requests()), latency, authentication, the rate limit, then the faults a
// backend can suffer. Each request passes the rate limit once, whatever
// happens to it after.
func (s *Server) plumbed(action string, h func(*http.Request) respond.Reply) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		bufferBody(r)
		s.mu.Lock()
		s.requests[action]++
		if app := r.PathValue("app"); app != "" {
			if s.appRequests[app] == nil {
				s.appRequests[app] = map[string]int{}
			}
			s.appRequests[app][action]++
		}
		delay := s.latencyLocked()
		s.mu.Unlock()

		if !s.sleep(r.Context(), delay) {
			respond.Write(w, respond.Err(http.StatusServiceUnavailable, "unavailable: request cancelled"))
			return
		}
		if !s.authorized(r) {
			respond.Write(w, respond.Err(http.StatusUnauthorized, "unauthorized"))
			return
		}
		// Real time, not opts.Now: clients wait out a 429 in real time.
		if wait, ok := s.limits.take(action, s.scopeOf(action, r), time.Now()); !ok {
			s.mu.Lock()
			s.rateLimited++
			s.mu.Unlock()
			respond.Write(w, rateLimitedReply(wait))
			return
		}

		s.mu.Lock()
		f := s.drawRequestFaultsLocked(action)
		s.mu.Unlock()
		switch {
		case f.hangFor > 0:
			hungAt := time.Now()
			if s.hang(w, r, f.hangFor) && f.actIfAbandoned {
				s.actAbandoned(r, h, hungAt.Add(f.hangFor))
			}
			return
		case f.serverError != 0:
			respond.Write(w, serverErrorReply(f.serverError))
			return
		}
		rp := h(r)
		if f.loseAnswer && rp.Code >= 200 && rp.Code < 300 {
			s.loseAnswer(w)
			return
		}
		respond.Write(w, rp)
	}
}

func (s *Server) unimplemented(r *http.Request) respond.Reply {
	return respond.Err(http.StatusNotImplemented, "unimplemented: flysim does not simulate "+r.Method+" "+r.URL.Path)
}
