package loadgen

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeGateway keeps extensions in a map, answering as Jetway's gateway
// does; forget and fail make it misbehave the ways the run must catch.
type fakeGateway struct {
	mu     sync.Mutex
	exts   map[string]bool
	posts  int
	forget func(n int) bool // answer 201 to the n-th POST without keeping it
	fail   func(n int) bool // answer 503 to the n-th request
	seen   int
}

func (g *fakeGateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.seen++
	if g.fail != nil && g.fail(g.seen) {
		http.Error(w, `{"error":"unavailable"}`, http.StatusServiceUnavailable)
		return
	}
	id := strings.TrimPrefix(r.URL.Path, "/flyio/extensions/")
	switch r.Method {
	case http.MethodPost:
		var body struct{ ID string }
		b, _ := io.ReadAll(r.Body)
		_ = json.Unmarshal(b, &body)
		if g.exts[body.ID] {
			w.WriteHeader(http.StatusOK)
			return
		}
		g.posts++
		if g.forget == nil || !g.forget(g.posts) {
			g.exts[body.ID] = true
		}
		w.WriteHeader(http.StatusCreated)
	case http.MethodGet, http.MethodPatch:
		if !g.exts[id] {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		w.WriteHeader(http.StatusOK)
	case http.MethodDelete:
		delete(g.exts, id)
		w.WriteHeader(http.StatusAccepted)
	}
}

func runAgainst(t *testing.T, g *fakeGateway) (*Report, error) {
	t.Helper()
	g.exts = map[string]bool{}
	srv := httptest.NewServer(g)
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return Run(ctx, Config{GatewayURL: srv.URL + "/flyio", Secret: []byte("s"), Rate: 200, Duration: time.Second, Seed: 1})
}

func TestHealthyGatewayPasses(t *testing.T) {
	rep, err := runAgainst(t, &fakeGateway{})
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, n := range rep.Codes {
		total += n
	}
	if rep.Sent != 200 || total != rep.Sent {
		t.Fatalf("sent %d, answers %d; want 200 of each", rep.Sent, total)
	}
	if rep.Accepted == 0 || rep.Verified+rep.DeletedOnPurpose != rep.Accepted {
		t.Fatalf("accepted %d = verified %d + deleted %d does not add up", rep.Accepted, rep.Verified, rep.DeletedOnPurpose)
	}
	if rep.AchievedRate < 150 || rep.AchievedRate > 210 {
		t.Fatalf("achieved %.0f req/s, want about 200", rep.AchievedRate)
	}
}

func TestLostPostFails(t *testing.T) {
	rep, err := runAgainst(t, &fakeGateway{forget: func(n int) bool { return n%10 == 3 }})
	if err == nil || len(rep.Lost) == 0 {
		t.Fatalf("a gateway that forgets accepted POSTs passed: err %v, lost %v", err, rep.Lost)
	}
}

func TestServerErrorFails(t *testing.T) {
	rep, err := runAgainst(t, &fakeGateway{fail: func(n int) bool { return n == 50 }})
	if err == nil || rep.ServerErrors() != 1 {
		t.Fatalf("a gateway that answered one 503 passed: err %v, 5xx %d", err, rep.ServerErrors())
	}
}
