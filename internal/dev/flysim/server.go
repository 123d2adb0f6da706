package flysim

import (
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jetway-dev/jetway/internal/dev/flysim/events"
	"github.com/jetway-dev/jetway/internal/dev/flysim/hooks"
	"github.com/jetway-dev/jetway/internal/dev/flysim/internal/respond"
	"github.com/jetway-dev/jetway/internal/dev/flysim/machines"
	"github.com/jetway-dev/jetway/internal/dev/flysim/oauth"
)

// Options configures a Server.
type Options struct {
	// Token is the bearer token every Machines API and control request must
	// carry. fly-go sends "Authorization: Bearer <token>" for plain tokens
	// and "FlyV1 <token>" for macaroons; both schemes are accepted. An
	// empty Token rejects everything.
	Token string
	// OrgSlug is the one organization the token can see. Apps can only be
	// created and listed in it.
	OrgSlug string
	// BootTime is how long created→starting→started takes. Stops, suspends
	// and destroys take half of it. Default 300ms (Fly's advertised boot time).
	BootTime time.Duration
	// Latency is a fixed delay added to every Machines API request before
	// it is handled, on top of any Faults latency.
	Latency time.Duration
	// Faults are the faults in force from the start; SetFaults changes
	// them later. The zero value injects none. New panics if they are
	// invalid (see Faults.Validate).
	Faults Faults
	// Now is the clock used for timestamps, lease, code and token expiry,
	// and webhook timestamps. Default time.Now. State transitions still run
	// on real timers.
	Now func() time.Time
	// WebhookSecret is the shared secret providers sign their webhooks to
	// Fly with (POST /api/hooks/extensions/{provider}; see flysim/hooks).
	// Empty: that endpoint answers 503.
	WebhookSecret string
	// EventsURL is where machine events are POSTed as CloudEvents, as Fly
	// does to a provider (e.g. http://127.0.0.1:8080/flyio/extensions/events).
	// Empty: no events. EventsSecret signs them (X-Signature); empty sends
	// them unsigned. SetEventsURL changes both later. See flysim/events.
	EventsURL    string
	EventsSecret string
	// IdleAfter is how long Fly's proxy lets a started machine whose
	// services have autostop "stop" or "suspend" go without traffic before
	// stopping or suspending it. 0 turns autostop off. See
	// flysim/machines/autostop.go.
	IdleAfter time.Duration
	// EventHistory is how many of a machine's events the Machines API
	// shows, newest first; older ones roll off. 0 means the default, 10.
	// See machines.Options.EventHistory.
	EventHistory int
	// OAuth, when set, turns on Fly's OAuth server under /oauth (see
	// flysim/oauth). Nil: those routes answer 404.
	OAuth *OAuthOptions
}

// Server is an http.Handler serving every simulator on one mux. Each
// simulator has its own lock; none waits on another's.
type Server struct {
	mux      *http.ServeMux
	machines *machines.Server
	oauth    *oauth.Server // nil when Options.OAuth is
	hooks    *hooks.Sink
	events   *events.Sender
	closed   atomic.Bool

	// faultsMu keeps the machines and the event sender on the same faults
	// when SetFaults calls race.
	faultsMu sync.Mutex
}

// New returns a Server. Call Close when done to stop its timers and event
// senders.
func New(opts Options) *Server {
	if err := opts.Faults.Validate(); err != nil {
		panic("flysim: invalid Options.Faults: " + err.Error())
	}
	if opts.OAuth != nil {
		if err := opts.OAuth.Validate(); err != nil {
			panic("flysim: invalid Options.OAuth: " + err.Error())
		}
	}
	s := &Server{
		mux:    http.NewServeMux(),
		hooks:  hooks.New(hooks.Options{Secret: opts.WebhookSecret, Now: opts.Now}),
		events: events.New(opts.EventsURL, opts.EventsSecret),
	}
	s.machines = machines.New(machines.Options{
		Token:        opts.Token,
		OrgSlug:      opts.OrgSlug,
		BootTime:     opts.BootTime,
		Latency:      opts.Latency,
		Faults:       opts.Faults,
		Now:          opts.Now,
		IdleAfter:    opts.IdleAfter,
		EventHistory: opts.EventHistory,
		OnChange:     s.machineChanged,
	})
	s.shareFaults()
	if opts.OAuth != nil {
		s.oauth = oauth.New(*opts.OAuth, opts.Now)
	}
	s.routes()
	return s
}

// machineChanged turns a machine state change into the event Fly sends the
// provider. It runs under the Machines API's lock; Send never blocks.
func (s *Server) machineChanged(c machines.Change) {
	s.events.Send(events.Change{App: c.App, MachineID: c.MachineID, State: c.State, Cause: c.Cause, At: c.At})
}

// shareFaults hands the event sender the duplicate-event rate and the seed
// the Machines API is using (a zero seed was replaced with one from the
// clock).
func (s *Server) shareFaults() {
	f := s.machines.Faults()
	s.events.SetDuplicates(f.DuplicateEventRate, f.Seed)
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("fly-request-id", s.machines.RequestID())
	if s.closed.Load() {
		respond.Write(w, respond.Err(http.StatusServiceUnavailable, "unavailable: server closed"))
		return
	}
	s.mux.ServeHTTP(w, r)
}

// Close stops every background timer and wakes blocked /wait requests. It
// returns once no timer callback is running and the event senders have
// stopped (events not yet delivered are dropped).
func (s *Server) Close() {
	s.closed.Store(true)
	s.machines.Close()
	s.events.Close()
}
