package machines

import (
	"context"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"github.com/jetway-dev/jetway/internal/dev/flysim/internal/respond"
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
	// IdleAfter is how long Fly's proxy lets a started machine whose
	// services have autostop "stop" or "suspend" go without traffic before
	// stopping or suspending it. 0 turns autostop off. See autostop.go.
	IdleAfter time.Duration
	// EventHistory is how many of a machine's events Fly shows: GET machine,
	// list machines and GET .../events all carry only the newest
	// EventHistory, newest first, and older ones are gone for good. 0 (or
	// less) means DefaultEventHistory. How long a machine really ran is
	// kept apart, uncapped (see RunningTime).
	EventHistory int
	// OnChange, when set, is told about every machine state change (see
	// Change). It is called with the state lock held, in the order the
	// changes happen, so it must return quickly and must not call back
	// into the Server.
	OnChange func(Change)
}

const defaultBootTime = 300 * time.Millisecond

// DefaultEventHistory is Options.EventHistory's default. Fly does not
// document how many events it keeps per machine; 10 is chosen small, and
// so likely stricter than Fly, so that a client that meters from events
// must read often and notice when some rolled off. See doc.go.
const DefaultEventHistory = 10

// Server is the Machines API. It is an http.Handler serving that API alone
// (as its tests use it); flysim mounts the same routes on its shared mux
// with Register and RegisterControl instead. All state sits behind one
// mutex; handlers compute their reply while holding it and write it after
// releasing it, so a slow client never blocks others.
type Server struct {
	opts    Options
	muxOnce sync.Once
	mux     *http.ServeMux // for ServeHTTP alone; built on first use

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
	created  []*machine          // every machine ever created, in creation order, destroyed ones too
	// volumes and snapshots are by id, across apps, like machines;
	// volumesCreated is every volume ever created, destroyed ones too.
	volumes        map[string]*volume
	volumesCreated []*volume
	snapshots      map[string]*snapshot
	volumesFull    map[string]bool // regions without volume capacity; see SetVolumeCapacity
	ipSeq          uint32
	usedIPs        map[string]bool
	requests       map[string]int
	appRequests    map[string]map[string]int // by app, then action
	orgNet         uint16                    // the org's 6PN network number, part of every fdaa: address

	limits      *limiter
	faults      faultState
	injected    map[string]int
	rateLimited int
	hung        int // requests currently held by a hang fault

	// failingImages and failingMachines (by id) are the check failures in
	// force; see check_failures.go.
	failingImages   map[string]bool
	failingMachines map[string]bool

	traffic map[*app]time.Time // last simulated request per app, real time; see autostop.go
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
	if opts.EventHistory <= 0 {
		opts.EventHistory = DefaultEventHistory
	}
	if err := opts.Faults.Validate(); err != nil {
		panic("flysim: invalid Options.Faults: " + err.Error())
	}
	s := &Server{
		opts:        opts,
		token:       opts.Token,
		done:        make(chan struct{}),
		changed:     make(chan struct{}),
		timers:      map[*time.Timer]struct{}{},
		rng:         rand.New(rand.NewPCG(0x666c79, 0x73696d)),
		apps:        map[string]*app{},
		machines:    map[string]*machine{},
		volumes:     map[string]*volume{},
		snapshots:   map[string]*snapshot{},
		volumesFull: map[string]bool{},
		usedIPs:     map[string]bool{},
		requests:    map[string]int{},
		appRequests: map[string]map[string]int{},
		orgNet:      orgNetwork(opts.OrgSlug),
		limits:      newLimiter(),
		faults:      newFaultState(opts.Faults.withDefaults()),
		injected:    newInjectedCounts(),
		traffic:     map[*app]time.Time{},

		failingImages:   map[string]bool{},
		failingMachines: map[string]bool{},
	}
	return s
}

// ServeHTTP implements http.Handler: the Machines API and its control
// routes, alone.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.muxOnce.Do(func() {
		s.mux = http.NewServeMux()
		s.Register(s.mux)
		s.RegisterControl(s.mux, s.RequireToken)
	})
	w.Header().Set("fly-request-id", s.RequestID())
	if s.Closed() {
		respond.Write(w, respond.Err(http.StatusServiceUnavailable, "unavailable: server closed"))
		return
	}
	s.mux.ServeHTTP(w, r)
}

// RequestID returns a fresh value for the fly-request-id header, which Fly
// stamps on every response, errors included, and clients log for support.
// It draws from the seeded generator, like every other id.
func (s *Server) RequestID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ulidLocked() + "-sim"
}

// Closed reports whether Close has been called.
func (s *Server) Closed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// Close stops every background timer and wakes blocked /wait requests. It
// returns once no timer callback is running.
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
