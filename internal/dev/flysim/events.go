package flysim

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/jetway-dev/jetway/internal/signing"
)

// Machine events to the provider. Fly's extensions docs ("Outbound
// Webhooks") promise a provider that deploys on Fly "webhooks for machine
// events, such as stops and starts", conforming to CloudEvents with the
// common attributes in HTTP headers (binary content mode), of type
// io.fly.machine.<state>, with a body like
//
//	{"machine_id":"5683977ad31768","status":"failed",
//	 "data":{"Error":"image not found","Transition":"prepareImage"}}
//
// The docs say nothing about signing them or about retries, so the
// simulator holds itself to Jetway's contract:
//
//	POST {EventsURL}
//	ce-specversion: 1.0
//	ce-id: <unique per event; the same on a retry or a duplicate>
//	ce-source: /apps/<app>/machines/<id>
//	ce-type: io.fly.machine.<state>
//	ce-time: <RFC3339Nano, UTC>
//	Content-Type: application/json
//	X-Signature: <lowercase hex HMAC-SHA256(secret, EventSigningMessage(...))>
//
//	{"machine_id":"<id>","app_name":"<app>","status":"<state>","data":{...}}
//
// data is {"Error":"<reason>","Transition":"<flyd step>"} for failed, as in
// Fly's sample, and {"event":"<machine event type>","source":"user|flyd|
// fly-proxy"} otherwise: the same type and source the machine's /events
// list shows for the change.
//
// Every state change sends one event, asynchronously: a bounded queue feeds
// two senders, so events may arrive out of order, as Fly warns its own do.
// A POST that fails (no connection, 5xx, 408, 425, 429) is tried again,
// three tries in all over about two seconds; any other 4xx is final. An
// event that is not delivered is dropped and counted as failed.

// EventSigningMessage is the message an event's X-Signature is the HMAC
// of: its id, type, source and time as sent in the ce- headers, each
// followed by a newline, then the raw body. It is signing.EventMessage,
// which the provider's gateway verifies with, so the two cannot drift.
func EventSigningMessage(id, typ, source, timeStr string, body []byte) []byte {
	return signing.EventMessage(id, typ, source, timeStr, body)
}

// EventTypePrefix prefixes the machine's state in ce-type.
const EventTypePrefix = "io.fly.machine."

// MachineEventBody is the JSON body of a machine event.
type MachineEventBody struct {
	MachineID string         `json:"machine_id"`
	AppName   string         `json:"app_name"`
	Status    string         `json:"status"`
	Data      map[string]any `json:"data"`
}

const (
	eventQueueSize      = 1024
	eventSenders        = 2
	eventAttempts       = 3
	eventAttemptTimeout = 5 * time.Second
	eventSourceProxy    = "fly-proxy"
	// crashTransition is the flyd step a crash is reported in. Fly's sample
	// names "prepareImage"; the name of the step that watches a running
	// machine is the simulator's guess.
	crashTransition = "monitor"
)

// eventBackoff is the wait before each retry: three tries over ~2s.
var eventBackoff = [eventAttempts - 1]time.Duration{500 * time.Millisecond, 1500 * time.Millisecond}

// outEvent is one event, ready to send.
type outEvent struct {
	url, secret            string // as configured when the event happened
	id, typ, source, ctime string
	body                   []byte
}

// eventEmitter sends machine events. It has its own lock, taken after
// Server.mu when both are held; senders never take Server.mu.
type eventEmitter struct {
	client *http.Client
	ctx    context.Context // cancelled by close: aborts posts and backoffs
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu         sync.Mutex
	url        string
	secret     string
	queue      chan outEvent // made with the senders, on the first event
	closed     bool
	sent       int // POSTs answered 2xx (a duplicate counts again)
	failed     int // events given up on, dropped for a full queue, or dropped by close
	retries    int
	duplicated int
	lastError  string
}

func newEventEmitter(url, secret string) *eventEmitter {
	ctx, cancel := context.WithCancel(context.Background())
	return &eventEmitter{
		client: &http.Client{Timeout: eventAttemptTimeout},
		ctx:    ctx,
		cancel: cancel,
		url:    url,
		secret: secret,
	}
}

// SetEventsURL changes where machine events go and the secret that signs
// them, for events that happen from now on; events already queued go where
// they were going. An empty url stops events; an empty secret sends them
// unsigned.
func (s *Server) SetEventsURL(url, secret string) {
	e := s.events
	e.mu.Lock()
	defer e.mu.Unlock()
	e.url, e.secret = url, secret
}

// EventStats counts machine events since New: sent is POSTs the provider
// answered with a 2xx (a duplicated event counts twice), failed is events
// dropped undelivered (retries exhausted, a full queue, or Close).
func (s *Server) EventStats() (sent, failed int) {
	e := s.events
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.sent, e.failed
}

// EventsStatus is what GET /flysim/v1/events shows. The secret is never
// shown, only whether there is one.
type EventsStatus struct {
	URL        string `json:"url"`
	Signed     bool   `json:"signed"`
	Sent       int    `json:"sent"`
	Failed     int    `json:"failed"`
	Retries    int    `json:"retries"`
	Duplicated int    `json:"duplicated"`
	Queued     int    `json:"queued"`
	LastError  string `json:"last_error"`
}

// EventsStatus returns the events configuration and counters.
func (s *Server) EventsStatus() EventsStatus {
	e := s.events
	e.mu.Lock()
	defer e.mu.Unlock()
	return EventsStatus{
		URL: e.url, Signed: e.secret != "",
		Sent: e.sent, Failed: e.failed, Retries: e.retries, Duplicated: e.duplicated,
		Queued: len(e.queue), LastError: e.lastError,
	}
}

// machineChangedLocked is called by lifecycle.go whenever m changes state
// (and once when it is created): it queues the event for the provider and
// arms autostop.
func (s *Server) machineChangedLocked(m *machine) {
	s.emitMachineEventLocked(m)
	s.armAutostopLocked(m)
}

// emitMachineEventLocked queues the event for m's current state.
func (s *Server) emitMachineEventLocked(m *machine) {
	e := s.events
	e.mu.Lock()
	url, secret := e.url, e.secret
	e.mu.Unlock()
	if url == "" {
		return
	}
	state := m.m.State
	body, err := json.Marshal(MachineEventBody{
		MachineID: m.m.ID,
		AppName:   m.app.name,
		Status:    state,
		Data:      eventDataLocked(m),
	})
	if err != nil {
		panic("flysim: encoding a machine event: " + err.Error()) // maps of strings always encode
	}
	ev := outEvent{
		url:    url,
		secret: secret,
		id:     newEventID(),
		typ:    EventTypePrefix + state,
		source: "/apps/" + m.app.name + "/machines/" + m.m.ID,
		ctime:  s.now().Format(time.RFC3339Nano),
		body:   body,
	}
	// Always drawn, so that the dice do not depend on the rate.
	dup := s.faults.events.Float64() < s.faults.cfg.DuplicateEventRate
	e.enqueue(ev, dup)
}

// eventDataLocked is the data of m's current state: the machine event
// that recorded the change, or for failed, why.
func eventDataLocked(m *machine) map[string]any {
	var last *event
	if len(m.events) > 0 && m.events[0].Status == m.m.State {
		last = &m.events[0]
	}
	if m.m.State == stateFailed {
		reason := "machine failed"
		if last != nil && last.Request != nil && last.Request.ExitEvent != nil {
			reason = exitReason(last.Request.ExitEvent.ExitCode, last.Request.ExitEvent.Signal, last.Request.ExitEvent.OOMKilled)
		}
		return map[string]any{"Error": reason, "Transition": crashTransition}
	}
	if last == nil {
		// Only "starting" is entered without an event of its own: flyd
		// records the boot once it is done.
		return map[string]any{"event": "start", "source": "flyd"}
	}
	return map[string]any{"event": last.Type, "source": last.Source}
}

func exitReason(code, signal int, oom bool) string {
	switch {
	case oom:
		return fmt.Sprintf("process was killed: out of memory (exit code %d)", code)
	case signal != 0:
		return fmt.Sprintf("process exited with code %d (signal %d)", code, signal)
	default:
		return fmt.Sprintf("process exited with code %d", code)
	}
}

// newEventID returns a random UUID (version 4). It does not draw from the
// server's seeded generator, so turning events on changes no machine id.
func newEventID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("flysim: no randomness for an event id: " + err.Error())
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// enqueue queues ev (twice if dup) without blocking, starting the senders
// on first use. A full queue drops the event.
func (e *eventEmitter) enqueue(ev outEvent, dup bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return
	}
	if e.queue == nil {
		e.queue = make(chan outEvent, eventQueueSize)
		for range eventSenders {
			e.wg.Add(1)
			go e.run()
		}
	}
	n := 1
	if dup {
		n = 2
		e.duplicated++
	}
	for range n {
		select {
		case e.queue <- ev:
		default:
			e.failed++
			e.lastError = fmt.Sprintf("event queue full (%d): dropped %s for %s", eventQueueSize, ev.typ, ev.source)
		}
	}
}

// close stops the senders, aborting posts under way, and drops what is
// still queued. It returns once no sender is running.
func (e *eventEmitter) close() {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return
	}
	e.closed = true
	e.mu.Unlock()
	e.cancel()
	e.wg.Wait()
	e.mu.Lock()
	defer e.mu.Unlock()
	e.failed += len(e.queue) // nothing sends on it once closed is set
	e.client.CloseIdleConnections()
}

func (e *eventEmitter) run() {
	defer e.wg.Done()
	for {
		select {
		case <-e.ctx.Done():
			return
		case ev := <-e.queue:
			e.deliver(ev)
		}
	}
}

// deliver tries ev up to eventAttempts times, then counts the outcome.
func (e *eventEmitter) deliver(ev outEvent) {
	var err error
	for try := 0; try < eventAttempts; try++ {
		if try > 0 {
			t := time.NewTimer(eventBackoff[try-1])
			select {
			case <-t.C:
			case <-e.ctx.Done():
				t.Stop()
				e.settle(false, "server closed")
				return
			}
			e.mu.Lock()
			e.retries++
			e.mu.Unlock()
		}
		var final bool
		if final, err = e.post(ev); err == nil {
			e.settle(true, "")
			return
		} else if final || e.ctx.Err() != nil {
			break
		}
	}
	e.settle(false, fmt.Sprintf("%s for %s: %v", ev.typ, ev.source, err))
}

func (e *eventEmitter) settle(ok bool, why string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if ok {
		e.sent++
		return
	}
	e.failed++
	e.lastError = why
}

// post sends ev once. final reports a failure that trying again cannot fix.
func (e *eventEmitter) post(ev outEvent) (final bool, err error) {
	req, err := http.NewRequestWithContext(e.ctx, http.MethodPost, ev.url, bytes.NewReader(ev.body))
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
		h.Set("X-Signature", signing.Sign([]byte(ev.secret), EventSigningMessage(ev.id, ev.typ, ev.source, ev.ctime, ev.body)))
	}
	resp, err := e.client.Do(req)
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
