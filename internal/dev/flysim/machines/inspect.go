package machines

import (
	"encoding/json"
	"fmt"
	"maps"

	fly "github.com/superfly/fly-go"
	"github.com/superfly/fly-go/flaps"
)

// Inspection helpers for tests. They read the simulator's state directly,
// without counting as requests, and always hand out copies: a test must
// not be able to change the simulation by editing what it was shown.

// Apps returns every app, sorted by name.
func (s *Server) Apps() []flaps.App {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []flaps.App{}
	for _, a := range s.sortedAppsLocked() {
		out = append(out, s.appViewLocked(a))
	}
	return out
}

// Machines returns app's machines that are not destroyed, in creation
// order. Machines being destroyed are still included. Unknown app: nil.
func (s *Server) Machines(app string) []fly.Machine {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.apps[app]
	if a == nil {
		return nil
	}
	return liveMachineCopies(a)
}

// AllMachines is Machines across all apps, apps in name order.
func (s *Server) AllMachines() []fly.Machine {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []fly.Machine{}
	for _, a := range s.sortedAppsLocked() {
		out = append(out, liveMachineCopies(a)...)
	}
	return out
}

func liveMachineCopies(a *app) []fly.Machine {
	out := []fly.Machine{}
	for _, m := range a.machines {
		if m.m.State != stateDestroyed {
			out = append(out, machineCopy(m))
		}
	}
	return out
}

// machineCopy deep-copies through JSON, which is also what a client would
// see, events (newest first) and checks included.
func machineCopy(m *machine) fly.Machine {
	src := m.m
	src.Events = make([]*fly.MachineEvent, len(m.events))
	for i := range m.events {
		src.Events[i] = &m.events[i].MachineEvent
	}
	src.LeaseNonce = ""
	src.Checks = checksViewLocked(m)
	raw, err := json.Marshal(src)
	if err != nil {
		panic(fmt.Sprintf("flysim: machine %s does not marshal: %v", m.m.ID, err))
	}
	var out fly.Machine
	if err := json.Unmarshal(raw, &out); err != nil {
		panic(fmt.Sprintf("flysim: machine %s does not round-trip: %v", m.m.ID, err))
	}
	return out
}

// IPAssignments returns app's assigned addresses; nil for an unknown app.
func (s *Server) IPAssignments(app string) []flaps.IPAssignment {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.apps[app]
	if a == nil {
		return nil
	}
	return append([]flaps.IPAssignment{}, a.ips...)
}

// Secrets returns app's secret values by name; nil for an unknown app.
func (s *Server) Secrets(app string) map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.apps[app]
	if a == nil {
		return nil
	}
	out := make(map[string]string, len(a.secrets))
	for n, sec := range a.secrets {
		out[n] = sec.value
	}
	return out
}

// DestroyMachineOutOfBand destroys a machine the way an operator running
// `fly machine destroy --force` would: immediately, whatever its state, and
// regardless of any lease. Controllers must notice on their own.
func (s *Server) DestroyMachineOutOfBand(app, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.apps[app]
	if a == nil {
		return fmt.Errorf("flysim: app %q not found", app)
	}
	m := s.machines[id]
	if m == nil || m.app != a {
		return fmt.Errorf("flysim: machine %q not found in app %q", id, app)
	}
	if m.m.State == stateDestroyed {
		return fmt.Errorf("flysim: machine %q is already destroyed", id)
	}
	s.destroyNowLocked(m, "user")
	return nil
}

// DeleteAppOutOfBand deletes an app the way an operator running `fly apps
// destroy` would, with the cascade of a DELETE: machines, IPs, secrets.
func (s *Server) DeleteAppOutOfBand(app string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.apps[app]
	if a == nil {
		return fmt.Errorf("flysim: app %q not found", app)
	}
	s.deleteAppLocked(a)
	return nil
}

// Requests counts requests by action since New, rejected ones included.
// Action names are the second argument of each route in routes(), e.g.
// "machine_create", "machine_wait", "lease_acquire"; unmatched paths count
// as "unknown".
func (s *Server) Requests() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.requests)
}

// AppRequests is Requests for the routes under /v1/apps/{app}/ of one app.
func (s *Server) AppRequests(app string) map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.appRequests[app])
}

// WedgeMachine leaves a machine stuck, as Fly's docs describe a wedged
// machine: it goes to "starting" and never settles. Requests that need a
// settled machine are refused as for any machine mid-transition, and the
// ones accepted never finish: only a forced destroy gets rid of it. Also
// at POST /flysim/v1/apps/{app}/machines/{id}/wedge.
func (s *Server) WedgeMachine(app, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.apps[app]
	m := s.machines[id]
	if a == nil || m == nil || m.app != a || m.m.State == stateDestroyed {
		return fmt.Errorf("flysim: machine %q not found in app %q", id, app)
	}
	s.beginLocked(m) // drop the transitions in flight
	m.wedged = true
	s.addEventLocked(m, "start", stateStarting, "flyd")
	s.setStateLocked(m, stateStarting)
	return nil
}
