package flysim

import (
	"context"
	"crypto/subtle"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Options configures a Server.
type Options struct {
	// Token is the bearer token every request must carry. fly-go sends
	// "Authorization: Bearer <token>" for plain tokens and "FlyV1 <token>" for
	// macaroons; both schemes are accepted. An empty Token rejects everything.
	Token string
	// OrgSlug is the one organization the token can see. Apps can only be
	// created and listed in it.
	OrgSlug string
	// BootTime is how long created→starting→started takes. Stops, suspends
	// and destroys take half of it. Default 300ms (Fly's advertised boot time).
	BootTime time.Duration
	// Latency is a fixed delay added to every request before it is
	// handled, on top of any Faults latency.
	Latency time.Duration
	// Faults are the faults in force from the start; SetFaults changes
	// them later. The zero value injects none. New panics if they are
	// invalid (see Faults.Validate).
	Faults Faults
	// Now is the clock used for timestamps and lease expiry. Default time.Now.
	// State transitions still run on real timers.
	Now func() time.Time
	// WebhookSecret is the shared secret providers sign their webhooks to
	// Fly with (POST /api/hooks/extensions/{provider}; see webhook.go).
	// Empty: that endpoint answers 503.
	WebhookSecret string
	// EventsURL is where machine events are POSTed as CloudEvents, as Fly
	// does to a provider (e.g. http://127.0.0.1:8080/flyio/extensions/events).
	// Empty: no events. EventsSecret signs them (X-Signature); empty sends
	// them unsigned. SetEventsURL changes both later. See events.go.
	EventsURL    string
	EventsSecret string
	// IdleAfter is how long Fly's proxy lets a started machine whose
	// services have autostop "stop" or "suspend" go without traffic before
	// stopping or suspending it. 0 turns autostop off. See autostop.go.
	IdleAfter time.Duration
	// OAuth, when set, turns on Fly's OAuth server under /oauth (see
	// oauth.go). Nil: those routes answer 404.
	OAuth *OAuthOptions
}

const defaultBootTime = 300 * time.Millisecond

// Server is an http.Handler that serves the Machines API under /v1.
// All state sits behind one mutex; handlers compute their reply while holding
// it and write it after releasing it, so a slow client never blocks others.
type Server struct {
	opts Options
	mux  *http.ServeMux

	tokenMu sync.RWMutex
	token   string // the bearer token accepted now; see SetToken

	mu       sync.Mutex
	closed   bool
	done     chan struct{} // closed by Close; wakes waiters and latency sleeps
	changed  chan struct{} // closed and replaced on every machine change; see broadcastLocked
	timers   map[*time.Timer]struct{}
	timersWG sync.WaitGroup

	rng      *rand.Rand // seeded constant so ids are reproducible run to run
	apps     map[string]*app
	appSeq   int32
	machines map[string]*machine // by id, across apps; ids are globally unique like Fly's
	ipSeq    uint32
	usedIPs  map[string]bool
	requests map[string]int
	orgNet   uint16 // the org's 6PN network number, part of every fdaa: address

	limits      *limiter
	faults      faultState
	injected    map[string]int
	rateLimited int
	hung        int // requests currently held by a hang fault

	hooks *webhookSink // Fly's incoming webhooks; its own lock

	events  *eventEmitter      // machine events to the provider; its own lock
	traffic map[*app]time.Time // last simulated request per app, real time; see autostop.go

	oauth *oauthState // Fly's OAuth server; nil when off; its own lock
}

// reply is a fully rendered response. Handlers build it under s.mu so that
// the JSON encoding never races with a timer mutating the same machine.
type reply struct {
	code   int
	body   []byte
	header http.Header // extra response headers, e.g. Retry-After
}

// New returns a Server. Call Close when done to stop its timers.
func New(opts Options) *Server {
	if opts.BootTime <= 0 {
		opts.BootTime = defaultBootTime
	}
	if opts.Latency < 0 {
		opts.Latency = 0
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if err := opts.Faults.Validate(); err != nil {
		panic("flysim: invalid Options.Faults: " + err.Error())
	}
	s := &Server{
		opts:     opts,
		token:    opts.Token,
		mux:      http.NewServeMux(),
		done:     make(chan struct{}),
		changed:  make(chan struct{}),
		timers:   map[*time.Timer]struct{}{},
		rng:      rand.New(rand.NewPCG(0x666c79, 0x73696d)),
		apps:     map[string]*app{},
		machines: map[string]*machine{},
		usedIPs:  map[string]bool{},
		requests: map[string]int{},
		orgNet:   orgNetwork(opts.OrgSlug),
		limits:   newLimiter(),
		faults:   newFaultState(opts.Faults.withDefaults()),
		injected: newInjectedCounts(),
		events:   newEventEmitter(opts.EventsURL, opts.EventsSecret),
		traffic:  map[*app]time.Time{},
	}
	s.routes()
	s.controlRoutes()
	s.webhookRoutes()
	s.oauthRoutes()
	return s
}

// routes wires every endpoint fly-go's flaps.Client calls. The action name is
// what Requests() counts.
func (s *Server) routes() {
	// Apps.
	s.handle("POST /v1/apps", "app_create", s.createApp)
	s.handle("GET /v1/apps", "app_list", s.listApps)
	s.handle("GET /v1/apps/{app}", "app_get", s.getApp)
	s.handle("DELETE /v1/apps/{app}", "app_delete", s.deleteApp)

	// Machines.
	s.handle("POST /v1/apps/{app}/machines", "machine_create", s.createMachine)
	s.handle("GET /v1/apps/{app}/machines", "machine_list", s.listMachines)
	s.handle("GET /v1/apps/{app}/machines/{id}", "machine_get", s.getMachine)
	s.handle("POST /v1/apps/{app}/machines/{id}", "machine_update", s.updateMachine)
	s.handle("DELETE /v1/apps/{app}/machines/{id}", "machine_destroy", s.destroyMachine)
	s.handle("POST /v1/apps/{app}/machines/{id}/start", "machine_start", s.startMachine)
	s.handle("POST /v1/apps/{app}/machines/{id}/stop", "machine_stop", s.stopMachine)
	s.handle("POST /v1/apps/{app}/machines/{id}/suspend", "machine_suspend", s.suspendMachine)
	s.handle("POST /v1/apps/{app}/machines/{id}/restart", "machine_restart", s.restartMachine)
	s.handle("POST /v1/apps/{app}/machines/{id}/cordon", "machine_cordon", s.cordonMachine)
	s.handle("POST /v1/apps/{app}/machines/{id}/uncordon", "machine_uncordon", s.uncordonMachine)
	s.handle("GET /v1/apps/{app}/machines/{id}/wait", "machine_wait", s.waitMachine)
	s.handle("GET /v1/apps/{app}/machines/{id}/events", "machine_events", s.machineEvents)
	s.handle("GET /v1/apps/{app}/machines/{id}/metadata", "metadata_get", s.getMetadata)
	s.handle("POST /v1/apps/{app}/machines/{id}/metadata/{key}", "metadata_set", s.setMetadata)
	s.handle("DELETE /v1/apps/{app}/machines/{id}/metadata/{key}", "metadata_delete", s.deleteMetadata)
	s.handle("POST /v1/apps/{app}/machines/{id}/lease", "lease_acquire", s.acquireLease)
	s.handle("GET /v1/apps/{app}/machines/{id}/lease", "lease_get", s.getLease)
	s.handle("DELETE /v1/apps/{app}/machines/{id}/lease", "lease_release", s.releaseLease)
	// Real endpoints the simulator deliberately does not model: say so
	// instead of faking a success a controller might come to rely on.
	s.handle("POST /v1/apps/{app}/machines/{id}/signal", "machine_signal", s.unimplemented)
	s.handle("POST /v1/apps/{app}/machines/{id}/exec", "machine_exec", s.unimplemented)
	s.handle("GET /v1/apps/{app}/machines/{id}/ps", "machine_ps", s.unimplemented)

	// IP assignments.
	s.handle("GET /v1/apps/{app}/ip_assignments", "ip_assignment_list", s.listIPs)
	s.handle("POST /v1/apps/{app}/ip_assignments", "ip_assignment_create", s.assignIP)
	s.handle("DELETE /v1/apps/{app}/ip_assignments/{ip}", "ip_assignment_delete", s.deleteIP)

	// Secrets.
	s.handle("GET /v1/apps/{app}/secrets", "secrets_list", s.listSecrets)
	s.handle("POST /v1/apps/{app}/secrets", "secrets_update", s.updateSecrets)
	s.handle("GET /v1/apps/{app}/secrets/{name}", "secret_get", s.getSecret)
	s.handle("POST /v1/apps/{app}/secrets/{name}", "secret_set", s.setSecret)
	s.handle("DELETE /v1/apps/{app}/secrets/{name}", "secret_delete", s.deleteSecret)

	// Platform.
	s.handle("GET /v1/platform/regions", "regions_get", s.getRegions)

	// Everything else, including a known path with the wrong method.
	s.handle("/", "unknown", func(*http.Request) reply {
		return errReply(http.StatusNotFound, "not found")
	})
}

// handle registers h behind the per-request plumbing, in the order a
// request meets it on Fly: counting (so a rejected request still shows up in
// Requests()), latency, authentication, the rate limit, then the faults a
// backend can suffer. Each request passes the rate limit once, whatever
// happens to it after.
func (s *Server) handle(pattern, action string, h func(*http.Request) reply) {
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		bufferBody(r)
		s.mu.Lock()
		s.requests[action]++
		delay := s.latencyLocked()
		s.mu.Unlock()

		if !s.sleep(r.Context(), delay) {
			writeReply(w, errReply(http.StatusServiceUnavailable, "unavailable: request cancelled"))
			return
		}
		if !s.authorized(r) {
			writeReply(w, errReply(http.StatusUnauthorized, "unauthorized"))
			return
		}
		// Real time, not opts.Now: clients wait out a 429 in real time.
		if wait, ok := s.limits.take(action, s.scopeOf(action, r), time.Now()); !ok {
			s.mu.Lock()
			s.rateLimited++
			s.mu.Unlock()
			writeReply(w, rateLimitedReply(wait))
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
			writeReply(w, serverErrorReply(f.serverError))
			return
		}
		rp := h(r)
		if f.loseAnswer && rp.code >= 200 && rp.code < 300 {
			s.loseAnswer(w)
			return
		}
		writeReply(w, rp)
	})
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	closed := s.closed
	// Fly stamps every response, errors included; clients log it for support.
	w.Header().Set("fly-request-id", s.ulidLocked()+"-sim")
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if closed {
		writeReply(w, errReply(http.StatusServiceUnavailable, "unavailable: server closed"))
		return
	}
	s.mux.ServeHTTP(w, r)
}

// Close stops every background timer and wakes blocked /wait requests. It
// returns once no timer callback is running and the event senders have
// stopped (events not yet delivered are dropped).
func (s *Server) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	for t := range s.timers {
		if t.Stop() {
			s.timersWG.Done() // the callback will never run to do it
		}
	}
	s.timers = nil
	close(s.done)
	s.broadcastLocked()
	s.mu.Unlock()
	s.timersWG.Wait()
	s.events.close()
}

// authorized compares the token in constant time. Scheme names are
// case-insensitive in HTTP; the token itself is not.
func (s *Server) authorized(r *http.Request) bool {
	want := stripScheme(s.currentToken())
	if want == "" {
		return false
	}
	scheme, got, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !(strings.EqualFold(scheme, "Bearer") || strings.EqualFold(scheme, "FlyV1")) {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// SetToken changes the token Fly accepts, as revoking or rotating a Fly
// API token does: requests with the old one get 401 from then on.
func (s *Server) SetToken(token string) {
	s.tokenMu.Lock()
	defer s.tokenMu.Unlock()
	s.token = token
}

func (s *Server) currentToken() string {
	s.tokenMu.RLock()
	defer s.tokenMu.RUnlock()
	return s.token
}

func stripScheme(tok string) string {
	tok = strings.TrimSpace(tok)
	for _, p := range []string{"Bearer ", "FlyV1 "} {
		if len(tok) > len(p) && strings.EqualFold(tok[:len(p)], p) {
			return strings.TrimSpace(tok[len(p):])
		}
	}
	return tok
}

// sleep waits d unless the request or the server goes away first.
func (s *Server) sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	case <-s.done:
		return false
	}
}

func (s *Server) now() time.Time { return s.opts.Now().UTC() }

// afterLocked runs fn under s.mu once d has passed, unless the server is closed
// first. Callers must hold s.mu, which also guarantees the timer is in
// s.timers before its callback can look for it.
func (s *Server) afterLocked(d time.Duration, fn func()) {
	if s.closed {
		return
	}
	s.timersWG.Add(1)
	var t *time.Timer
	t = time.AfterFunc(d, func() {
		defer s.timersWG.Done()
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.closed {
			return
		}
		delete(s.timers, t)
		fn()
	})
	s.timers[t] = struct{}{}
}

// broadcastLocked wakes everyone blocked in /wait so they re-check state.
func (s *Server) broadcastLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

func (s *Server) unimplemented(r *http.Request) reply {
	return errReply(http.StatusNotImplemented, "unimplemented: flysim does not simulate "+r.Method+" "+r.URL.Path)
}
