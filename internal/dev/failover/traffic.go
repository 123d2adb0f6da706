package failover

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jetway-dev/jetway/internal/dev/devstack"
	"github.com/jetway-dev/jetway/internal/dev/flyside"
)

// Traffic sends signed requests at a steady rate to the managers'
// gateways, in turn, as a Service spreads Fly's calls over the pods. A
// request that reaches no gateway (refused by a stopped process, cut off
// by a SIGKILL) is sent again to the next, as Fly retries a call that got
// no answer; only an answer counts, and every 5xx answer is a failure.
// Requests read extensions back (GET, most of Fly's calls); every other
// one provisions a new extension until Extensions exist, no more, so the
// leader's work stays that of the change being timed.
type Traffic struct {
	// Managers are the replicas; Secret is the provisioning secret.
	Managers []*devstack.ManagerProcess
	Secret   []byte
	// Rate is requests per second.
	Rate int
	// Prefix names the extensions it provisions; Extensions is how many
	// (default 5).
	Prefix     string
	Extensions int

	cancel  context.CancelFunc
	wg      sync.WaitGroup
	mu      sync.Mutex
	report  TrafficReport
	created []string
	next    atomic.Uint64
}

// TrafficReport is what the traffic saw.
type TrafficReport struct {
	// Sent requests, Answered by some gateway; Retried were sent again
	// after a gateway could not be reached; Unanswered reached none in
	// every attempt.
	Sent, Answered, Retried, Unanswered int
	// ServerErrors are 5xx answers, Samples a few of them and of the
	// unanswered.
	ServerErrors int
	Samples      []string
}

// attempts is how often one request is sent before it counts as
// unanswered: every gateway of three twice, a little apart.
const attempts = 6

// Start begins sending until Stop. Requests already sent are not cut off
// by Stop, only by ctx: one being resent when the traffic stops still
// counts.
func (t *Traffic) Start(ctx context.Context) {
	sending, cancel := context.WithCancel(ctx)
	t.cancel = cancel
	rate := max(1, t.Rate)
	t.wg.Add(1)
	go func() {
		defer t.wg.Done()
		tick := time.NewTicker(time.Second / time.Duration(rate))
		defer tick.Stop()
		for n := 0; ; n++ {
			select {
			case <-sending.Done():
				return
			case <-tick.C:
			}
			t.wg.Add(1)
			go func() {
				defer t.wg.Done()
				t.one(ctx, n)
			}()
		}
	}()
}

// Stop ends the traffic, waits for the requests in flight to be answered
// or given up, and reports.
func (t *Traffic) Stop() TrafficReport {
	if t.cancel != nil {
		t.cancel()
	}
	t.wg.Wait()
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.report
}

func (t *Traffic) one(ctx context.Context, n int) {
	var call func(fc *flyside.Client) (*flyside.Response, error)
	id := t.readable(n)
	if id == "" {
		id = fmt.Sprintf("%s-%05d", t.Prefix, n)
		body := map[string]any{
			"id": id, "name": id, "organization_id": t.Prefix + "-org", "user_id": "user-" + t.Prefix,
			"user_role": "admin", "primary_region": "iad", "read_regions": []string{},
		}
		// A repeated POST answers 200 (Fly retries at least once), so a
		// retry of one that was cut off is safe.
		call = func(fc *flyside.Client) (*flyside.Response, error) { return fc.Create(ctx, body) }
	} else {
		call = func(fc *flyside.Client) (*flyside.Response, error) { return fc.Get(ctx, id) }
	}
	var lastErr error
	// Each request starts at the next gateway and tries the others after it
	// in turn, so its attempts reach every gateway.
	first := int(t.next.Add(1))
	for a := range attempts {
		m := t.Managers[(first+a)%len(t.Managers)]
		fc := &flyside.Client{BaseURL: m.GatewayURL(), Secret: t.Secret, HTTP: httpClient}
		resp, err := call(fc)
		if err != nil {
			if ctx.Err() != nil {
				return // the run is over: neither sent nor answered
			}
			lastErr = err
			t.count(func(r *TrafficReport) { r.Retried++ })
			time.Sleep(time.Duration(a+1) * 50 * time.Millisecond)
			continue
		}
		t.count(func(r *TrafficReport) {
			r.Sent++
			r.Answered++
			if resp.StatusCode >= 500 {
				r.ServerErrors++
				r.sample(fmt.Sprintf("%s: HTTP %d: %.200s", m.GatewayAddr, resp.StatusCode, resp.Body))
			}
		})
		if resp.StatusCode == http.StatusCreated || resp.StatusCode == http.StatusOK {
			t.remember(id)
		}
		return
	}
	t.count(func(r *TrafficReport) {
		r.Sent++
		r.Unanswered++
		r.sample(fmt.Sprintf("no gateway answered in %d attempts: %v", attempts, errors.Unwrap(lastErr)))
	})
}

// httpClient bounds each attempt; a gateway that hangs is tried again
// elsewhere.
var httpClient = &http.Client{Timeout: 10 * time.Second}

// readable is an extension provisioned earlier for every other request;
// "" asks for a new one.
func (t *Traffic) readable(n int) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	limit := t.Extensions
	if limit <= 0 {
		limit = 5
	}
	if len(t.created) == 0 || (n%2 == 0 && len(t.created) < limit) {
		return ""
	}
	return t.created[n%len(t.created)]
}

func (t *Traffic) remember(id string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, c := range t.created {
		if c == id {
			return
		}
	}
	t.created = append(t.created, id)
}

func (t *Traffic) count(f func(*TrafficReport)) {
	t.mu.Lock()
	defer t.mu.Unlock()
	f(&t.report)
}

func (r *TrafficReport) sample(s string) {
	if len(r.Samples) < 5 {
		r.Samples = append(r.Samples, s)
	}
}
