package machines

import (
	"net/http"
	"time"

	"github.com/jetway-dev/jetway/internal/dev/flysim/internal/respond"
)

// Metadata endpoints edit config.metadata in place. They do not mint a new
// machine version, which is what makes them cheaper than an update on Fly.

func (s *Server) getMetadata(r *http.Request) respond.Reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, rp := s.machineLocked(r)
	if m == nil {
		return rp
	}
	out := map[string]string{}
	if m.m.Config != nil {
		for k, v := range m.m.Config.Metadata {
			out[k] = v
		}
	}
	return respond.JSON(http.StatusOK, out)
}

func (s *Server) setMetadata(r *http.Request) respond.Reply {
	key := r.PathValue("key")
	if key == "" {
		return respond.Err(http.StatusBadRequest, "invalid_argument: metadata key is required")
	}
	value, bad := decodeValue(r)
	if bad != nil {
		return *bad
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	m, rp := s.mutableLocked(r)
	if m == nil {
		return rp
	}
	if m.m.Config.Metadata == nil {
		m.m.Config.Metadata = map[string]string{}
	}
	m.m.Config.Metadata[key] = value
	m.m.UpdatedAt = s.now().Format(time.RFC3339)
	return respond.Empty(http.StatusNoContent)
}

// deleteMetadata refuses a key that is not there; being strict here keeps a
// caller from believing it removed something it misspelled.
func (s *Server) deleteMetadata(r *http.Request) respond.Reply {
	key := r.PathValue("key")
	s.mu.Lock()
	defer s.mu.Unlock()
	m, rp := s.mutableLocked(r)
	if m == nil {
		return rp
	}
	if _, ok := m.m.Config.Metadata[key]; !ok {
		return respond.Err(http.StatusNotFound, "metadata key not found")
	}
	delete(m.m.Config.Metadata, key)
	m.m.UpdatedAt = s.now().Format(time.RFC3339)
	return respond.Empty(http.StatusNoContent)
}

// machineEvents lists the events Fly still shows (the newest
// Options.EventHistory), newest first, destroyed machines included.
func (s *Server) machineEvents(r *http.Request) respond.Reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, rp := s.machineLocked(r)
	if m == nil {
		return rp
	}
	out := eventsLocked(m)
	if out == nil {
		out = []event{} // [] rather than null, as Fly answers
	}
	return respond.JSON(http.StatusOK, out)
}
