package replicas

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/onsi/gomega"
)

// TestForgedMachineEventsCostOneLookPerInterval: machine events come
// unsigned, as Fly sends them, so anyone can send one naming a real
// machine. 10,000 such events, spread over the three gateways as a
// Service would, may cost at most one look at Fly per extension per
// --machine-event-interval (plus one: a window is rarely aligned with the
// intervals), and must cost at least one: events are hints, not ignored.
func TestForgedMachineEventsCostOneLookPerInterval(t *testing.T) {
	const interval = 2 * time.Second
	// A resync far away, so every look in the window is one an event asked for.
	c := startCluster(t, 3, "--machine-event-interval", interval.String(), "--resync", "1h")
	g := gomega.NewWithT(t)
	const id = "flooded-ext"
	create := c.capture(t, http.MethodPost, "/extensions", map[string]any{
		"id": id, "name": "flooded", "organization_id": "org-flood", "organization_name": "Flood Org",
		"user_id": "user-1", "user_email": "user@example.com", "primary_region": "ams", "read_regions": []string{},
	})
	if got := c.sendTo(t, 0, create); got.status != http.StatusCreated && got.status != http.StatusAccepted {
		t.Fatalf("POST: %+v", got)
	}
	c.waitReady(t, g, id)
	var app, machine string
	for _, e := range c.extensions(t) {
		if e.Spec.ID == id {
			app, machine = e.Status.AppName, e.Status.Machines[0].ID
		}
	}
	// Let the passes that follow Ready settle (its first resyncs check in
	// full), then count from a quiet start.
	time.Sleep(2 * interval)
	before := c.sim.AppRequests(app)["machine_list"]

	const events, workers = 10000, 16
	var sent, accepted atomic.Int64
	began := time.Now()
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			hc := &http.Client{Timeout: 10 * time.Second}
			for {
				n := sent.Add(1)
				if n > events {
					return
				}
				if forgeEvent(t, hc, c.managers[int(n)%len(c.managers)].GatewayAddr, app, machine, fmt.Sprintf("forged-%d-%d", w, n)) == http.StatusAccepted {
					accepted.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	flood := time.Since(began)
	// The last folded look comes up to an interval after the last event.
	time.Sleep(interval + time.Second)
	window := time.Since(began)
	looks := c.sim.AppRequests(app)["machine_list"] - before
	allowed := int(math.Ceil(window.Seconds()/interval.Seconds())) + 1
	t.Logf("%d forged events (%d acknowledged) over 3 gateways in %s; %d machine lists of %s in the %s window, at most %d allowed (one per %s)",
		events, accepted.Load(), flood.Round(time.Millisecond), looks, app, window.Round(time.Millisecond), allowed, interval)
	if accepted.Load() != events {
		t.Fatalf("%d of %d events acknowledged with 202", accepted.Load(), events)
	}
	if looks < 1 || looks > allowed {
		t.Fatalf("%d looks at Fly for %d events in %s; want between 1 and %d", looks, events, window, allowed)
	}
}

// forgeEvent posts an unsigned binary-mode CloudEvent naming machine and
// returns the status.
func forgeEvent(t *testing.T, hc *http.Client, addr, app, machine, id string) int {
	body, _ := json.Marshal(map[string]any{"machine_id": machine, "status": "stopped"})
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, "http://"+addr+"/flyio/extensions/events", bytes.NewReader(body))
	if err != nil {
		t.Error(err)
		return 0
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("ce-specversion", "1.0")
	req.Header.Set("ce-id", id)
	req.Header.Set("ce-type", "io.fly.machine.stopped")
	req.Header.Set("ce-source", "/apps/"+app+"/machines/"+machine)
	req.Header.Set("ce-time", time.Now().UTC().Format(time.RFC3339Nano))
	resp, err := hc.Do(req)
	if err != nil {
		t.Error(err)
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}
