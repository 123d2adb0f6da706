package machines

import (
	"net/http"
	"regexp"
	"sort"
	"time"

	"github.com/superfly/fly-go/flaps"

	"github.com/jetway-dev/jetway/internal/dev/flysim/internal/respond"
)

type app struct {
	id        string
	name      string
	numericID int32
	network   string
	role      string
	createdAt time.Time

	machines       []*machine // creation order, destroyed ones included
	volumes        []*volume  // creation order, destroyed ones included
	ips            []flaps.IPAssignment
	secrets        map[string]*secret
	secretsVersion uint64
}

// Fly app names become hostnames (<name>.fly.dev), hence DNS-label rules.
var appNameRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?$`)

const maxAppNameLen = 63

// createAppRequest accepts both spellings seen in the wild: fly-go sends
// "name", Fly's docs say "app_name".
type createAppRequest struct {
	Name             string `json:"name"`
	AppName          string `json:"app_name"`
	OrgSlug          string `json:"org_slug"`
	Network          string `json:"network"`
	AppRoleID        string `json:"app_role_id"`
	EnableSubdomains bool   `json:"enable_subdomains"`
}

func (s *Server) createApp(r *http.Request) respond.Reply {
	var in createAppRequest
	if err := respond.DecodeBody(r, &in, true); err != nil {
		return respond.BadBody(err)
	}
	name := in.Name
	if name == "" {
		name = in.AppName
	} else if in.AppName != "" && in.AppName != in.Name {
		return respond.Err(http.StatusBadRequest, "invalid_argument: name and app_name disagree")
	}
	switch {
	case name == "":
		return respond.Err(http.StatusUnprocessableEntity, "Name can't be blank")
	case len(name) > maxAppNameLen:
		return respond.Err(http.StatusUnprocessableEntity, "Name is too long (maximum is 63 characters)")
	case !appNameRE.MatchString(name):
		return respond.Err(http.StatusUnprocessableEntity, "Name may only contain numbers, lowercase letters and dashes, and must start and end with a letter or number")
	}
	if in.OrgSlug == "" {
		return respond.Err(http.StatusBadRequest, "invalid_argument: org_slug is required")
	}
	if in.OrgSlug != s.opts.OrgSlug {
		// The token can only see its own organization; Fly cannot tell
		// "does not exist" from "not yours" and says the former.
		return respond.Err(http.StatusNotFound, "organization not found")
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if _, taken := s.apps[name]; taken {
		return respond.ErrStatus(http.StatusUnprocessableEntity, "Name has already been taken", "name_taken")
	}
	s.appSeq++
	a := &app{
		id:        s.appIDLocked(),
		name:      name,
		numericID: s.appSeq,
		network:   in.Network,
		role:      in.AppRoleID,
		createdAt: s.now(),
		secrets:   map[string]*secret{},
	}
	s.apps[name] = a
	return respond.JSON(http.StatusCreated, s.appViewLocked(a))
}

func (s *Server) getApp(r *http.Request) respond.Reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, rp := s.appLocked(r)
	if a == nil {
		return rp
	}
	return respond.JSON(http.StatusOK, s.appViewLocked(a))
}

// listApps requires org_slug like Fly's spec does; a missing one is a bug
// in the caller, not a request for "everything".
func (s *Server) listApps(r *http.Request) respond.Reply {
	q := r.URL.Query()
	org := q.Get("org_slug")
	if org == "" {
		return respond.Err(http.StatusBadRequest, "invalid_argument: org_slug is required")
	}
	if org != s.opts.OrgSlug {
		return respond.Err(http.StatusNotFound, "organization not found")
	}
	role := q.Get("app_role")

	s.mu.Lock()
	defer s.mu.Unlock()
	out := struct {
		Apps      []flaps.App `json:"apps"`
		TotalApps int         `json:"total_apps"`
	}{Apps: []flaps.App{}}
	for _, a := range s.sortedAppsLocked() {
		if role != "" && a.role != role {
			continue
		}
		out.Apps = append(out.Apps, s.appViewLocked(a))
	}
	out.TotalApps = len(out.Apps)
	return respond.JSON(http.StatusOK, out)
}

// deleteApp cascades the way Fly does: machines are destroyed (leases
// notwithstanding), volumes destroyed (a volume belongs to one app and
// cannot outlive it; their snapshots become unreachable with the app), IPs
// released, secrets dropped, and the name freed.
func (s *Server) deleteApp(r *http.Request) respond.Reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, rp := s.appLocked(r)
	if a == nil {
		return rp
	}
	s.deleteAppLocked(a)
	return respond.Empty(http.StatusAccepted)
}

func (s *Server) deleteAppLocked(a *app) {
	for _, m := range a.machines {
		if m.m.State != stateDestroyed {
			s.destroyNowLocked(m, "flyd")
		}
	}
	for _, vol := range a.volumes {
		s.destroyVolumeNowLocked(vol)
	}
	for _, ip := range a.ips {
		delete(s.usedIPs, ip.IP)
	}
	delete(s.apps, a.name)
}

// appLocked resolves the {app} path value or renders the 404 Fly returns;
// fly-go's AppNameAvailable compares the text "app not found" exactly.
func (s *Server) appLocked(r *http.Request) (*app, respond.Reply) {
	a := s.apps[r.PathValue("app")]
	if a == nil {
		return nil, respond.Err(http.StatusNotFound, "app not found")
	}
	return a, respond.Reply{}
}

func (s *Server) sortedAppsLocked() []*app {
	out := make([]*app, 0, len(s.apps))
	for _, a := range s.apps {
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

// appViewLocked renders flaps.App. Status follows the dashboard: "pending"
// until the app has a live machine, then "deployed".
func (s *Server) appViewLocked(a *app) flaps.App {
	live := 0
	for _, m := range a.machines {
		if m.m.State != stateDestroyed {
			live++
		}
	}
	volumes := 0
	for _, vol := range a.volumes {
		if vol.v.State != volumeDestroyed {
			volumes++
		}
	}
	status := "pending"
	if live > 0 {
		status = "deployed"
	}
	return flaps.App{
		ID:                a.id,
		Name:              a.name,
		InternalNumericID: a.numericID,
		Network:           a.network,
		Status:            status,
		MachineCount:      int64(live),
		VolumeCount:       int64(volumes),
		Organization: flaps.AppOrganizationInfo{
			Name: s.opts.OrgSlug,
			Slug: s.opts.OrgSlug,
		},
		AppRole: a.role,
	}
}
