package machines

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	fly "github.com/superfly/fly-go"

	"github.com/jetway-dev/jetway/internal/dev/flysim/internal/respond"
)

// machineView is the Machine JSON Fly returns: fly.Machine plus the fields
// fly-go v0.2.2 does not model (event ids, cordoned). The outer Events field
// shadows the embedded one when encoding.
type machineView struct {
	fly.Machine
	Events   []event `json:"events,omitempty"`
	Cordoned bool    `json:"cordoned"`
}

func (s *Server) machineViewLocked(m *machine) machineView {
	v := machineView{Machine: m.m, Events: eventsLocked(m), Cordoned: m.cordoned}
	v.Machine.Events = nil
	v.Checks = checksViewLocked(m)
	v.LeaseNonce = "" // only the create response carries a nonce
	return v
}

// machineLocked resolves {app}/{id}. A machine id from another app is "not
// found", as it is on Fly. Destroyed machines still resolve: GET shows them.
func (s *Server) machineLocked(r *http.Request) (*machine, respond.Reply) {
	a, rp := s.appLocked(r)
	if a == nil {
		return nil, rp
	}
	m := s.machines[r.PathValue("id")]
	if m == nil || m.app != a {
		return nil, respond.Err(http.StatusNotFound, "machine not found")
	}
	return m, respond.Reply{}
}

// mutableLocked is machineLocked for calls that change a machine: a
// destroyed machine is "not found" to them (flyctl relies on that text), and
// a lease held by someone else refuses them.
func (s *Server) mutableLocked(r *http.Request) (*machine, respond.Reply) {
	m, rp := s.machineLocked(r)
	if m == nil {
		return nil, rp
	}
	if m.m.State == stateDestroyed {
		return nil, respond.Err(http.StatusNotFound, "machine not found")
	}
	if rp, ok := s.checkLeaseLocked(r, m); !ok {
		return nil, rp
	}
	return m, respond.Reply{}
}

func (s *Server) createMachine(r *http.Request) respond.Reply {
	var in fly.LaunchMachineInput
	if err := respond.DecodeBody(r, &in, true); err != nil {
		return respond.BadBody(err)
	}
	if err := validateLaunch(&in, true); err != nil {
		return respond.BadBody(err)
	}
	if in.LeaseTTL < 0 {
		return respond.Err(http.StatusBadRequest, "invalid_argument: lease_ttl must be positive")
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	a, rp := s.appLocked(r)
	if a == nil {
		return rp
	}
	if rp, ok := checkSecretsVersion(a, in.MinSecretsVersion); !ok {
		return rp
	}
	vol, rp, ok := s.mountableLocked(a, in.Region, in.Config, nil)
	if !ok {
		return rp
	}
	if rp, full := s.existingVolumeFullLocked(vol); full {
		return rp
	}
	if rp, full := s.capacityFaultLocked("machine_create", in.Region); full {
		return rp
	}
	name := in.Name
	if name == "" {
		name = s.machineNameLocked()
	}
	ver := s.ulidLocked()
	now := s.now().Format(time.RFC3339)
	m := &machine{
		app: a,
		m: fly.Machine{
			ID:         s.machineIDLocked(),
			Name:       name,
			State:      stateCreated,
			Region:     in.Region,
			ImageRef:   imageRef(in.Config.Image),
			InstanceID: ver,
			Version:    ver,
			PrivateIP:  s.privateIPLocked(),
			CreatedAt:  now,
			UpdatedAt:  now,
			Config:     in.Config,
			HostStatus: fly.HostStatusOk,
		},
		versions: []string{ver},
	}
	s.machines[m.m.ID] = m
	s.created = append(s.created, m)
	a.machines = append(a.machines, m)
	s.attachLocked(m, vol)
	logStateLocked(m, s.now(), stateCreated)
	s.addEventLocked(m, "launch", stateCreated, "user")
	var nonce string
	if in.LeaseTTL > 0 {
		nonce = s.newLeaseLocked(m, in.LeaseTTL, "").nonce
	}
	if !in.SkipLaunch {
		s.launchLocked(m)
	}
	s.broadcastLocked()

	v := s.machineViewLocked(m)
	v.LeaseNonce = nonce
	return respond.JSON(http.StatusOK, v)
}

// listMachines supports Fly's filters. Unknown query parameters are
// rejected: fly-go's List(ctx, app, state) pastes its argument in as a raw
// query string, and Fly silently ignoring a typo there would return every
// machine in the app.
func (s *Server) listMachines(r *http.Request) respond.Reply {
	q := r.URL.Query()
	meta := map[string]string{}
	for k, vs := range q {
		switch {
		case k == "include_deleted" || k == "region" || k == "state" || k == "summary":
		case strings.HasPrefix(k, "metadata.") && len(k) > len("metadata."):
			for _, v := range vs {
				if prev, dup := meta[k[len("metadata."):]]; dup && prev != v {
					return respond.Err(http.StatusBadRequest, fmt.Sprintf("invalid_argument: conflicting values for %s", k))
				}
				meta[k[len("metadata."):]] = v
			}
		default:
			return respond.Err(http.StatusBadRequest, fmt.Sprintf("invalid_argument: unknown query parameter %q", k))
		}
	}
	includeDeleted, err := parseBoolParam(r, "include_deleted")
	if err != nil {
		return respond.BadBody(err)
	}
	region := q.Get("region")
	if region != "" && !validRegion(region) {
		return respond.Err(http.StatusBadRequest, fmt.Sprintf("invalid_argument: unknown region %q", region))
	}
	var states map[string]bool
	if st := q.Get("state"); st != "" {
		states = map[string]bool{}
		for _, x := range strings.Split(st, ",") {
			states[strings.TrimSpace(x)] = true
		}
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	a, rp := s.appLocked(r)
	if a == nil {
		return rp
	}
	out := []machineView{}
	for _, m := range a.machines {
		if m.m.State == stateDestroyed && !includeDeleted {
			continue
		}
		if region != "" && m.m.Region != region {
			continue
		}
		if states != nil && !states[m.m.State] {
			continue
		}
		if !metadataMatches(m.m.Config, meta) {
			continue
		}
		out = append(out, s.machineViewLocked(m))
	}
	return respond.JSON(http.StatusOK, out)
}

func metadataMatches(cfg *fly.MachineConfig, want map[string]string) bool {
	for k, v := range want {
		if cfg == nil || cfg.Metadata == nil {
			return false
		}
		got, ok := cfg.Metadata[k]
		if !ok || got != v {
			return false
		}
	}
	return true
}

func (s *Server) getMachine(r *http.Request) respond.Reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, rp := s.machineLocked(r)
	if m == nil {
		return rp
	}
	return respond.JSON(http.StatusOK, s.machineViewLocked(m))
}

// updateMachine replaces the config and mints a new version. Region and
// name are fixed at creation; an update that tries to change them is
// refused rather than silently ignored.
func (s *Server) updateMachine(r *http.Request) respond.Reply {
	var in fly.LaunchMachineInput
	if err := respond.DecodeBody(r, &in, true); err != nil {
		return respond.BadBody(err)
	}
	if err := validateLaunch(&in, false); err != nil {
		return respond.BadBody(err)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	m, rp := s.mutableLocked(r)
	if m == nil {
		return rp
	}
	if in.Region != "" && in.Region != m.m.Region {
		return respond.Err(http.StatusBadRequest, fmt.Sprintf("invalid_argument: cannot move machine from region %s to %s; create a new machine instead", m.m.Region, in.Region))
	}
	if in.Name != "" && in.Name != m.m.Name {
		return respond.Err(http.StatusBadRequest, fmt.Sprintf("invalid_argument: cannot rename machine %s to %s", m.m.Name, in.Name))
	}
	// Fly lets an update attach a volume, or another one (flyctl#4418).
	vol, rp, ok := s.mountableLocked(m.app, m.m.Region, in.Config, m)
	if !ok {
		return rp
	}
	if !resting(m) {
		st := m.m.State
		if m.launching {
			st = "launching"
		}
		return respond.Err(http.StatusPreconditionFailed, fmt.Sprintf("failed_precondition: unable to update machine while it is %s; wait for it to settle", st))
	}
	if rp, ok := checkSecretsVersion(m.app, in.MinSecretsVersion); !ok {
		return rp
	}
	if rp, full := s.capacityFaultLocked("machine_update", m.m.Region); full {
		return rp
	}
	ver := s.ulidLocked()
	m.versions = append(m.versions, ver)
	m.m.InstanceID = ver
	m.m.Version = ver
	m.m.Config = in.Config
	s.attachLocked(m, vol)
	m.m.ImageRef = imageRef(in.Config.Image)
	if m.lease != nil {
		m.lease.version = ver
	}
	s.updateLocked(m, in.SkipLaunch)
	return respond.JSON(http.StatusOK, s.machineViewLocked(m))
}

// destroyMachine follows flyd: without force only a machine that is not
// running may be destroyed. fly-go sends ?kill=, the docs say ?force=; both
// mean force.
func (s *Server) destroyMachine(r *http.Request) respond.Reply {
	kill, err := parseBoolParam(r, "kill")
	if err != nil {
		return respond.BadBody(err)
	}
	force, err := parseBoolParam(r, "force")
	if err != nil {
		return respond.BadBody(err)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	m, rp := s.mutableLocked(r)
	if m == nil {
		return rp
	}
	switch st := m.m.State; {
	case st == stateDestroying:
		return respond.Err(http.StatusPreconditionFailed, "failed_precondition: machine is already being destroyed")
	case st == stateStopped || st == stateSuspended || st == stateFailed:
	case kill || force:
	default:
		return respond.Err(http.StatusPreconditionFailed, "failed_precondition: unable to destroy machine, not currently stopped, suspended or failed")
	}
	s.destroyLocked(m)
	return respond.OK()
}

func checkSecretsVersion(a *app, min *uint64) (respond.Reply, bool) {
	if min != nil && *min > a.secretsVersion {
		return respond.Err(http.StatusPreconditionFailed, fmt.Sprintf("failed_precondition: min_secrets_version %d is newer than the app's secrets version %d", *min, a.secretsVersion)), false
	}
	return respond.Reply{}, true
}
