package chaos

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"github.com/jetway-dev/jetway/internal/dev/flyside"
)

// callTimeout bounds one HTTP call: a gateway that accepted a connection
// and then died never answers, and Fly gives up on such a call too.
const callTimeout = 15 * time.Second

// deliveryDeadline bounds the retries of one logical call. Fly retries for
// longer, but a call that gets no answer for this long under this test's
// outages (seconds each) means the gateway is wedged: a finding.
const deliveryDeadline = 3 * time.Minute

// gatewayStats counts what the gateway served the driver.
type gatewayStats struct {
	mu sync.Mutex
	// byCode counts answers by HTTP status, retried ones included.
	byCode map[int]int
	// unanswered counts calls that got no HTTP answer: refused while the
	// manager was down, or cut off by a SIGKILL.
	unanswered int
}

func (s *gatewayStats) answer(code int) {
	s.mu.Lock()
	s.byCode[code]++
	s.mu.Unlock()
}

func (s *gatewayStats) noAnswer() {
	s.mu.Lock()
	s.unanswered++
	s.mu.Unlock()
}

func (s *gatewayStats) served5xx() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for code, c := range s.byCode {
		if code >= 500 {
			n += c
		}
	}
	return n
}

// caller delivers each call at least once, as Fly does: a refused
// connection, a cut-off call or a 5xx answer is sent again, with a fresh
// nonce and backoff, until the gateway gives any other answer.
type caller struct {
	fly   *flyside.Client
	stats *gatewayStats
}

func newCaller(fly *flyside.Client) *caller {
	c := *fly
	c.HTTP = &http.Client{Timeout: callTimeout}
	return &caller{fly: &c, stats: &gatewayStats{byCode: map[int]int{}}}
}

// deliver sends until an answer that is not a 5xx. The returned error
// means no such answer came within deliveryDeadline.
func (c *caller) deliver(ctx context.Context, what string, send func(context.Context, *flyside.Client) (*flyside.Response, error)) (*flyside.Response, error) {
	deadline := time.Now().Add(deliveryDeadline)
	backoff := 50 * time.Millisecond
	var last string
	for {
		resp, err := send(ctx, c.fly)
		switch {
		case err != nil:
			c.stats.noAnswer()
			last = err.Error()
		case resp.StatusCode >= 500:
			c.stats.answer(resp.StatusCode)
			last = fmt.Sprintf("HTTP %d %s", resp.StatusCode, resp.Body)
		default:
			c.stats.answer(resp.StatusCode)
			return resp, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("%s: no answer but 5xx or errors for %s; last: %s", what, deliveryDeadline, last)
		}
		sleep := backoff/2 + time.Duration(rand.Int64N(int64(backoff)))
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(sleep):
		}
		backoff = min(2*backoff, 2*time.Second)
	}
}
