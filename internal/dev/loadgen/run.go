package loadgen

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/jetway-dev/jetway/internal/dev/flyside"
)

// Run sends Rate requests per second for Duration, then verifies. The
// report is returned whenever requests were sent; the error says whether
// the gateway served any 5xx (or dropped a request) or lost an accepted
// POST.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	// Keep a warm connection per slot: the run measures the gateway, not
	// TCP handshakes.
	transport.MaxIdleConnsPerHost = cfg.Concurrency
	fc := &flyside.Client{BaseURL: cfg.GatewayURL, Secret: cfg.Secret,
		HTTP: &http.Client{Timeout: cfg.Timeout, Transport: transport}}
	defer transport.CloseIdleConnections()

	// One unsigned call first: a gateway that is not there is a setup
	// mistake, not 6,000 failed requests.
	resp, err := fc.HTTP.Get(cfg.GatewayURL + "/extensions/ping")
	if err != nil {
		return nil, fmt.Errorf("gateway %s does not answer (is it running? `make run` starts one): %w", cfg.GatewayURL, err)
	}
	resp.Body.Close()
	g := &generator{cfg: cfg, fly: fc, pool: newPool(runID(), cfg.Seed), rec: newRecorder()}
	fmt.Fprintf(cfg.Progress, "load: %d req/s for %s, at most %d in flight, ids load-%s-*\n", cfg.Rate, cfg.Duration, cfg.Concurrency, g.pool.runID)
	rep := &Report{TargetRate: cfg.Rate, Concurrency: cfg.Concurrency}
	rep.Sent, rep.Elapsed = g.send(ctx)
	rep.AchievedRate = float64(rep.Sent) / rep.Elapsed.Seconds()
	g.rec.fill(rep)

	fmt.Fprintf(cfg.Progress, "load: verifying accepted POSTs\n")
	verify(ctx, fc, g.pool, rep, cfg.Concurrency)
	if cfg.Cleanup {
		fmt.Fprintf(cfg.Progress, "load: deleting the extensions the run left\n")
		cleanup(ctx, fc, g.pool, cfg.Concurrency)
	}
	if n := rep.ServerErrors(); n > 0 || len(rep.Lost) > 0 {
		return rep, fmt.Errorf("load: %d answers were 5xx or missing, %d accepted POSTs are lost", n, len(rep.Lost))
	}
	return rep, nil
}

type generator struct {
	cfg  Config
	fly  *flyside.Client
	pool *pool
	rec  *recorder
}

// send paces requests on a fixed schedule (request n at start + n/Rate),
// waiting for a free slot when Concurrency are in flight. It returns how
// many were sent and the time from the first to the last answer.
func (g *generator) send(ctx context.Context) (int, time.Duration) {
	slots := make(chan struct{}, g.cfg.Concurrency)
	var wg sync.WaitGroup
	start := time.Now()
	total := int(float64(g.cfg.Rate) * g.cfg.Duration.Seconds())
	sent := 0
	for n := 0; n < total && ctx.Err() == nil; n++ {
		at := start.Add(time.Duration(n) * time.Second / time.Duration(g.cfg.Rate))
		if d := time.Until(at); d > 0 {
			time.Sleep(d)
		}
		slots <- struct{}{}
		wg.Add(1)
		sent++
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			g.one(ctx)
		}()
	}
	wg.Wait()
	return sent, time.Since(start)
}

// one sends one request of a kind drawn from the mix.
func (g *generator) one(ctx context.Context) {
	k := g.pool.pickKind(g.cfg.Mix)
	id, body := "", map[string]any(nil)
	if k != kindCreate {
		id, body = g.pool.pickLive()
		if id == "" {
			k = kindCreate // nothing to act on yet
		}
	}
	var call func() (*flyside.Response, error)
	switch k {
	case kindCreate:
		id, body = g.pool.newRequest()
		call = func() (*flyside.Response, error) { return g.fly.Create(ctx, body) }
	case kindRepeat:
		call = func() (*flyside.Response, error) { return g.fly.Create(ctx, body) }
	case kindGet:
		call = func() (*flyside.Response, error) { return g.fly.Get(ctx, id) }
	case kindUpdate:
		fields := map[string]any{"read_regions": g.pool.readRegions()}
		call = func() (*flyside.Response, error) { return g.fly.Update(ctx, id, fields) }
	case kindDelete:
		if id = g.pool.takeForDelete(); id == "" {
			return
		}
		call = func() (*flyside.Response, error) { return g.fly.Delete(ctx, id) }
	}
	began := time.Now()
	resp, err := call()
	took := time.Since(began)
	if err != nil {
		g.rec.record(k, statusError, took, err.Error())
		return
	}
	g.rec.record(k, resp.StatusCode, took, string(resp.Body))
	if (k == kindCreate || k == kindRepeat) && (resp.StatusCode == http.StatusCreated || resp.StatusCode == http.StatusOK) {
		g.pool.accept(id)
	}
}

func runID() string {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
