package machines

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/jetway-dev/jetway/internal/dev/flysim/internal/respond"
)

// nonceHeader is fly-go's flaps.NonceHeader.
const nonceHeader = "fly-machine-lease-nonce"

const defaultLeaseTTL = 30 // seconds

type lease struct {
	nonce       string
	owner       string
	description string
	expires     time.Time
	version     string
}

// leaseData is the "data" object of Fly's lease responses. fly-go's
// MachineLeaseData lacks description; Fly sends it.
type leaseData struct {
	Nonce       string `json:"nonce"`
	ExpiresAt   int64  `json:"expires_at"` // unix seconds
	Owner       string `json:"owner"`
	Description string `json:"description,omitempty"`
	Version     string `json:"version"`
}

type leaseResponse struct {
	Status string `json:"status"`
	Data   any    `json:"data"`
}

// owner names the token holder the way Fly names macaroon tokens in lease
// conflicts ("<id>@tokens.fly.io"). There is one token, hence one owner.
func (s *Server) owner() string {
	sum := sha256.Sum256([]byte(stripScheme(s.opts.Token)))
	return fmt.Sprintf("%d@tokens.fly.io", binary.BigEndian.Uint32(sum[:4])%10000000)
}

// activeLeaseLocked returns m's lease unless it has expired by the server
// clock; expired leases are dropped lazily, so an injected clock controls
// expiry without timers.
func (s *Server) activeLeaseLocked(m *machine) *lease {
	if m.lease != nil && !s.now().Before(m.lease.expires) {
		m.lease = nil
	}
	return m.lease
}

func (s *Server) newLeaseLocked(m *machine, ttl int, description string) *lease {
	m.lease = &lease{
		nonce:       s.nonceLocked(),
		owner:       s.owner(),
		description: description,
		expires:     s.now().Add(time.Duration(ttl) * time.Second),
		version:     m.m.Version,
	}
	return m.lease
}

// leaseHeldReply is the 409 flyd returns, byte for byte in shape; flyctl
// matches on "lease currently held by".
func (s *Server) leaseHeldReply(m *machine, l *lease) respond.Reply {
	return respond.Err(http.StatusConflict, fmt.Sprintf("aborted: machine ID %s lease currently held by %s, expires at %s",
		m.m.ID, l.owner, l.expires.UTC().Format(time.RFC3339)))
}

// checkLeaseLocked enforces the lease on a mutating call: while a lease is
// active the request must carry its nonce. With no active lease any nonce
// (including a stale one) is ignored.
func (s *Server) checkLeaseLocked(r *http.Request, m *machine) (respond.Reply, bool) {
	l := s.activeLeaseLocked(m)
	if l == nil || r.Header.Get(nonceHeader) == l.nonce {
		return respond.Reply{}, true
	}
	return s.leaseHeldReply(m, l), false
}

func (s *Server) leaseReply(l *lease) respond.Reply {
	return respond.JSON(http.StatusOK, leaseResponse{Status: "success", Data: leaseData{
		Nonce:       l.nonce,
		ExpiresAt:   l.expires.Unix(),
		Owner:       l.owner,
		Description: l.description,
		Version:     l.version,
	}})
}

// acquireLease creates a lease, or refreshes it when the caller presents the
// current nonce (fly-go's RefreshLease). TTL comes from ?ttl= (fly-go) or
// the body's "ttl" (docs); the query wins.
func (s *Server) acquireLease(r *http.Request) respond.Reply {
	var in struct {
		Description string `json:"description"`
		TTL         *int   `json:"ttl"`
	}
	if err := respond.DecodeBody(r, &in, false); err != nil {
		return respond.BadBody(err)
	}
	ttl := defaultLeaseTTL
	if in.TTL != nil {
		ttl = *in.TTL
	}
	if v := r.URL.Query().Get("ttl"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return respond.Err(http.StatusBadRequest, fmt.Sprintf("invalid_argument: ttl %q is not a number of seconds", v))
		}
		ttl = n
	}
	if ttl <= 0 {
		return respond.Err(http.StatusBadRequest, "invalid_argument: ttl must be a positive number of seconds")
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	m, rp := s.machineLocked(r)
	if m == nil {
		return rp
	}
	if m.m.State == stateDestroyed || m.m.State == stateDestroying {
		return respond.Err(http.StatusNotFound, "machine not found")
	}
	if l := s.activeLeaseLocked(m); l != nil {
		if r.Header.Get(nonceHeader) != l.nonce {
			return s.leaseHeldReply(m, l)
		}
		l.expires = s.now().Add(time.Duration(ttl) * time.Second)
		if in.Description != "" {
			l.description = in.Description
		}
		return s.leaseReply(l)
	}
	return s.leaseReply(s.newLeaseLocked(m, ttl, in.Description))
}

func (s *Server) getLease(r *http.Request) respond.Reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, rp := s.machineLocked(r)
	if m == nil {
		return rp
	}
	l := s.activeLeaseLocked(m)
	if l == nil {
		return respond.Err(http.StatusNotFound, "lease not found")
	}
	return s.leaseReply(l)
}

// releaseLease needs the nonce: releasing someone else's lease is exactly
// what leases exist to prevent.
func (s *Server) releaseLease(r *http.Request) respond.Reply {
	nonce := r.Header.Get(nonceHeader)
	if nonce == "" {
		return respond.Err(http.StatusBadRequest, "invalid_argument: "+nonceHeader+" header is required")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m, rp := s.machineLocked(r)
	if m == nil {
		return rp
	}
	l := s.activeLeaseLocked(m)
	if l == nil {
		return respond.Err(http.StatusNotFound, "lease not found")
	}
	if nonce != l.nonce {
		return s.leaseHeldReply(m, l)
	}
	m.lease = nil
	return respond.JSON(http.StatusOK, leaseResponse{Status: "success", Data: map[string]bool{"ok": true}})
}
