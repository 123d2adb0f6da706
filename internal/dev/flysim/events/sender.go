package events

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"github.com/jetway-dev/jetway/internal/dev/flysign"
)

const (
	queueSize      = 1024
	senders        = 2
	attempts       = 3
	attemptTimeout = 5 * time.Second
)

// backoff is the wait before each retry: three tries over ~2s.
var backoff = [attempts - 1]time.Duration{500 * time.Millisecond, 1500 * time.Millisecond}

// outEvent is one event, ready to send.
type outEvent struct {
	url, secret            string // as configured when the event happened
	id, typ, source, ctime string
	body                   []byte
}

// Sender sends machine events to the provider. Send never blocks and never
// calls back, so it may be called under another simulator's lock.
type Sender struct {
	client *http.Client
	ctx    context.Context // cancelled by Close: aborts posts and backoffs
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu         sync.Mutex
	url        string
	secret     string
	dupRate    float64
	dupDice    *rand.Rand
	queue      chan outEvent // made with the senders, on the first event
	closed     bool
	sent       int // POSTs answered 2xx (a duplicate counts again)
	failed     int // events given up on, dropped for a full queue, or dropped by Close
	retries    int
	duplicated int
	lastError  string
}

// New returns a Sender posting to url (empty: no events), signing with
// secret (empty: unsigned).
func New(url, secret string) *Sender {
	ctx, cancel := context.WithCancel(context.Background())
	s := &Sender{
		client: &http.Client{Timeout: attemptTimeout},
		ctx:    ctx,
		cancel: cancel,
		url:    url,
		secret: secret,
	}
	s.SetDuplicates(0, 0)
	return s
}

// SetURL changes where events go and the secret that signs them, for
// events sent from now on; events already queued go where they were going.
// An empty url stops events; an empty secret sends them unsigned.
func (s *Sender) SetURL(url, secret string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.url, s.secret = url, secret
}

// SetDuplicates makes each event go out twice, with the same ce-id, with
// probability rate, as an at-least-once sender does, and restarts the dice
// from seed. It is the Machines API faults' DuplicateEventRate; the dice
// are stream 5 of their seed.
func (s *Sender) SetDuplicates(rate float64, seed int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dupRate = rate
	s.dupDice = rand.New(rand.NewPCG(uint64(seed), 5))
}

// Stats counts events since New: sent is POSTs the provider answered with
// a 2xx (a duplicated event counts twice), failed is events dropped
// undelivered (retries exhausted, a full queue, or Close).
func (s *Sender) Stats() (sent, failed int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sent, s.failed
}

// Status is what GET /flysim/v1/events shows. The secret is never shown,
// only whether there is one.
type Status struct {
	URL        string `json:"url"`
	Signed     bool   `json:"signed"`
	Sent       int    `json:"sent"`
	Failed     int    `json:"failed"`
	Retries    int    `json:"retries"`
	Duplicated int    `json:"duplicated"`
	Queued     int    `json:"queued"`
	LastError  string `json:"last_error"`
}

// Status returns the configuration and counters.
func (s *Sender) Status() Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	return Status{
		URL: s.url, Signed: s.secret != "",
		Sent: s.sent, Failed: s.failed, Retries: s.retries, Duplicated: s.duplicated,
		Queued: len(s.queue), LastError: s.lastError,
	}
}

// Send queues the event for c, unless no URL is set, starting the senders
// on first use. A full queue drops the event.
func (s *Sender) Send(c Change) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || s.url == "" {
		return
	}
	body, err := json.Marshal(Body{MachineID: c.MachineID, AppName: c.App, Status: c.State, Data: data(c)})
	if err != nil {
		panic("flysim: encoding a machine event: " + err.Error()) // maps of strings always encode
	}
	ev := outEvent{
		url:    s.url,
		secret: s.secret,
		id:     newEventID(),
		typ:    TypePrefix + c.State,
		source: "/apps/" + c.App + "/machines/" + c.MachineID,
		ctime:  c.At.UTC().Format(time.RFC3339Nano),
		body:   body,
	}
	// Always drawn, so that the dice do not depend on the rate.
	n := 1
	if s.dupDice.Float64() < s.dupRate {
		n = 2
		s.duplicated++
	}
	if s.queue == nil {
		s.queue = make(chan outEvent, queueSize)
		for range senders {
			s.wg.Add(1)
			go s.run()
		}
	}
	for range n {
		select {
		case s.queue <- ev:
		default:
			s.failed++
			s.lastError = fmt.Sprintf("event queue full (%d): dropped %s for %s", queueSize, ev.typ, ev.source)
		}
	}
}

// Close stops the senders, aborting posts under way, and drops what is
// still queued. It returns once no sender is running.
func (s *Sender) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	s.mu.Unlock()
	s.cancel()
	s.wg.Wait()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failed += len(s.queue) // nothing sends on it once closed is set
	s.client.CloseIdleConnections()
}

func (s *Sender) run() {
	defer s.wg.Done()
	for {
		select {
		case <-s.ctx.Done():
			return
		case ev := <-s.queue:
			s.deliver(ev)
		}
	}
}

// deliver tries ev up to attempts times, then counts the outcome.
func (s *Sender) deliver(ev outEvent) {
	var err error
	for try := 0; try < attempts; try++ {
		if try > 0 {
			t := time.NewTimer(backoff[try-1])
			select {
			case <-t.C:
			case <-s.ctx.Done():
				t.Stop()
				s.settle(false, "server closed")
				return
			}
			s.mu.Lock()
			s.retries++
			s.mu.Unlock()
		}
		var final bool
		if final, err = s.post(ev); err == nil {
			s.settle(true, "")
			return
		} else if final || s.ctx.Err() != nil {
			break
		}
	}
	s.settle(false, fmt.Sprintf("%s for %s: %v", ev.typ, ev.source, err))
}

func (s *Sender) settle(ok bool, why string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ok {
		s.sent++
		return
	}
	s.failed++
	s.lastError = why
}

// post sends ev once. final reports a failure that trying again cannot fix.
func (s *Sender) post(ev outEvent) (final bool, err error) {
	req, err := http.NewRequestWithContext(s.ctx, http.MethodPost, ev.url, bytes.NewReader(ev.body))
	if err != nil {
		return true, err
	}
	h := req.Header
	h.Set("ce-specversion", "1.0")
	h.Set("ce-id", ev.id)
	h.Set("ce-source", ev.source)
	h.Set("ce-type", ev.typ)
	h.Set("ce-time", ev.ctime)
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", "flysim")
	if ev.secret != "" {
		h.Set("X-Signature", flysign.Sign([]byte(ev.secret), SigningMessage(ev.id, ev.typ, ev.source, ev.ctime, ev.body)))
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	switch c := resp.StatusCode; {
	case c >= 200 && c < 300:
		return false, nil
	case c >= 500, c == http.StatusRequestTimeout, c == http.StatusTooEarly, c == http.StatusTooManyRequests:
		return false, fmt.Errorf("HTTP %d", c)
	default:
		return true, fmt.Errorf("HTTP %d", c)
	}
}
