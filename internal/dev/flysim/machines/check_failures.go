package machines

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"

	"github.com/jetway-dev/jetway/internal/dev/flysim/internal/respond"
)

// Check failures: the health-check fault. A machine whose checks fail is
// started and answers every Machines API call as before; only its checks
// say it is not healthy, as when an image boots but never listens. The
// realistic case is a bad image, so failures are given by image as well as
// by machine.

// CheckFailures are the check failures in force. Every check of a machine
// they cover that is past its grace period reports critical, with the
// output Fly's checker gives for a port that refuses connections (tcp) or
// an HTTP 500 (http). They take effect at once, not at the check's next
// interval, which flysim does not model.
type CheckFailures struct {
	// Images fails the checks of every machine whose config.image is one of
	// these, exactly as written, including machines created or updated
	// onto it later.
	Images []string `json:"images"`
	// Machines fails the checks of these machines, whatever their image.
	Machines []MachineRef `json:"machines"`
}

// UnmarshalJSON implements json.Unmarshaler. Missing fields are empty;
// unknown fields are an error, since a misspelt "images" would otherwise
// clear every failure.
func (f *CheckFailures) UnmarshalJSON(b []byte) error {
	type plain CheckFailures // without this method
	var in plain
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return err
	}
	*f = CheckFailures(in)
	return nil
}

// MachineRef names a machine by its app and id.
type MachineRef struct {
	App string `json:"app"`
	ID  string `json:"id"`
}

// errUnknownMachine is a check failure for a machine that is not there.
var errUnknownMachine = errors.New("flysim: machine not found")

// SetCheckFailures replaces the check failures in force; the zero value
// clears them. An invalid image reference or a machine that does not exist
// (or is destroyed) in its app is an error, and then nothing changes. Also
// at PUT /flysim/v1/check-failures.
func (s *Server) SetCheckFailures(f CheckFailures) error {
	for _, img := range f.Images {
		if !imageRE.MatchString(img) {
			return fmt.Errorf("flysim: %q is not a valid image reference", img)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	machines := map[string]bool{}
	for _, ref := range f.Machines {
		if _, err := s.liveMachineLocked(ref.App, ref.ID); err != nil {
			return err
		}
		machines[ref.ID] = true
	}
	images := map[string]bool{}
	for _, img := range f.Images {
		images[img] = true
	}
	s.failingImages, s.failingMachines = images, machines
	s.refreshAllChecksLocked()
	return nil
}

// FailImageChecks adds image to the check failures: the checks of every
// machine running it fail, now and from then on.
func (s *Server) FailImageChecks(image string) error {
	if !imageRE.MatchString(image) {
		return fmt.Errorf("flysim: %q is not a valid image reference", image)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failingImages[image] = true
	s.refreshAllChecksLocked()
	return nil
}

// FailMachineChecks adds one machine to the check failures.
func (s *Server) FailMachineChecks(app, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.liveMachineLocked(app, id); err != nil {
		return err
	}
	s.failingMachines[id] = true
	s.refreshAllChecksLocked()
	return nil
}

// ClearCheckFailures lifts every check failure: checks past their grace
// period pass again at once.
func (s *Server) ClearCheckFailures() {
	_ = s.SetCheckFailures(CheckFailures{}) // nothing to refuse in the zero value
}

// CheckFailures returns the check failures in force, sorted. A machine
// destroyed since it was added is left out.
func (s *Server) CheckFailures() CheckFailures {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := CheckFailures{Images: []string{}, Machines: []MachineRef{}}
	for img := range s.failingImages {
		out.Images = append(out.Images, img)
	}
	sort.Strings(out.Images)
	for id := range s.failingMachines {
		if m := s.machines[id]; m != nil && m.m.State != stateDestroyed {
			out.Machines = append(out.Machines, MachineRef{App: m.app.name, ID: id})
		}
	}
	sort.Slice(out.Machines, func(i, j int) bool {
		a, b := out.Machines[i], out.Machines[j]
		return a.App < b.App || a.App == b.App && a.ID < b.ID
	})
	return out
}

// liveMachineLocked finds a machine of app that is not destroyed.
func (s *Server) liveMachineLocked(app, id string) (*machine, error) {
	a := s.apps[app]
	m := s.machines[id]
	if a == nil || m == nil || m.app != a || m.m.State == stateDestroyed {
		return nil, fmt.Errorf("%w: %q in app %q", errUnknownMachine, id, app)
	}
	return m, nil
}

// checksFailLocked reports whether a check failure covers m.
func (s *Server) checksFailLocked(m *machine) bool {
	return s.failingMachines[m.m.ID] || m.m.Config != nil && s.failingImages[m.m.Config.Image]
}

// refreshAllChecksLocked applies a change of check failures to every
// machine that reports checks.
func (s *Server) refreshAllChecksLocked() {
	for _, m := range s.machines {
		if len(m.checks) > 0 {
			s.refreshChecksLocked(m)
		}
	}
}

func (s *Server) getCheckFailuresControl(*http.Request) respond.Reply {
	return respond.JSON(http.StatusOK, s.CheckFailures())
}

// putCheckFailuresControl replaces the check failures (fields left out are
// empty, as PUT means) and answers with what is now in force.
func (s *Server) putCheckFailuresControl(r *http.Request) respond.Reply {
	var in CheckFailures
	if err := respond.DecodeBody(r, &in, true); err != nil {
		return respond.BadBody(err)
	}
	if err := s.SetCheckFailures(in); err != nil {
		if errors.Is(err, errUnknownMachine) {
			return respond.Err(http.StatusNotFound, err.Error())
		}
		return respond.BadBody(err)
	}
	return s.getCheckFailuresControl(r)
}
