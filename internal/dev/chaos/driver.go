package chaos

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jetway-dev/jetway/internal/dev/flyside"
)

// driver plays Fly: it provisions, updates and deletes extensions through
// the gateway while the manager is being killed, and keeps the model of
// what Fly was told.
type driver struct {
	call        *caller
	exts        []*extension
	concurrency int

	finished atomic.Int64 // scripts played to the end

	mu        sync.Mutex
	anomalies []string // answers Fly would not expect: each is a violation
}

func (d *driver) anomaly(format string, args ...any) {
	d.mu.Lock()
	d.anomalies = append(d.anomalies, fmt.Sprintf(format, args...))
	d.mu.Unlock()
}

// run starts each extension's script at its time, at most concurrency at
// once, and returns when all scripts have ended.
func (d *driver) run(ctx context.Context) {
	order := slices.Clone(d.exts)
	slices.SortStableFunc(order, func(a, b *extension) int { return int(a.script.startAfter - b.script.startAfter) })
	start := time.Now()
	slots := make(chan struct{}, d.concurrency)
	var wg sync.WaitGroup
	for _, e := range order {
		select {
		case <-ctx.Done():
		case <-time.After(time.Until(start.Add(e.script.startAfter))):
		}
		select {
		case <-ctx.Done():
		case slots <- struct{}{}:
		}
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			d.play(ctx, e)
			d.finished.Add(1)
		}()
	}
	wg.Wait()
}

// play runs one extension's script; it stops at the first call that gets
// no usable answer.
func (d *driver) play(ctx context.Context, e *extension) {
	if !d.create(ctx, e, false) {
		return
	}
	step := 0
	pause := func() bool {
		p := e.script.pauses[step]
		step++
		select {
		case <-ctx.Done():
			return false
		case <-time.After(p):
			return true
		}
	}
	if e.script.duplicate {
		if !pause() || !d.create(ctx, e, true) {
			return
		}
	}
	for _, u := range e.script.updates {
		if !pause() || !d.update(ctx, e, u) {
			return
		}
	}
	if e.script.delete {
		if pause() {
			d.remove(ctx, e)
		}
	}
}

func (d *driver) provisionBody(e *extension) map[string]any {
	body := map[string]any{
		"id":                e.ID,
		"name":              e.Name,
		"organization_id":   e.Org,
		"organization_name": "Org " + e.Org,
		"user_id":           "user-" + e.Org,
		"user_email":        "alias-" + e.Org + "@customer.fly.io",
		"user_role":         "admin",
		"primary_region":    e.Primary,
		"read_regions":      nonNil(e.ReadRegions),
	}
	if e.Plan != "" {
		body["plan"] = e.Plan
	}
	return body
}

// create POSTs the provisioning request. A first delivery may get 200
// rather than 201: an earlier attempt was stored before the manager died
// or its answer was lost. A duplicate must get 200 and the same config.
func (d *driver) create(ctx context.Context, e *extension, duplicate bool) bool {
	body := d.provisionBody(e)
	resp, err := d.call.deliver(ctx, "POST "+e.ID, func(ctx context.Context, c *flyside.Client) (*flyside.Response, error) {
		return c.Create(ctx, body)
	})
	if err != nil {
		e.Undelivered = err.Error()
		return false
	}
	want := []int{http.StatusCreated, http.StatusOK}
	if duplicate {
		want = []int{http.StatusOK}
	}
	if !slices.Contains(want, resp.StatusCode) {
		d.anomaly("POST %s (duplicate=%v): HTTP %d %s", e.ID, duplicate, resp.StatusCode, resp.Body)
		e.Undelivered = fmt.Sprintf("POST answered %d", resp.StatusCode)
		return false
	}
	var answer struct {
		Config map[string]string `json:"config"`
	}
	if err := resp.JSON(&answer); err != nil {
		d.anomaly("POST %s: %v", e.ID, err)
	}
	e.Created = true
	if e.Config == nil {
		e.Config = answer.Config
	} else if !maps.Equal(e.Config, answer.Config) {
		d.anomaly("POST %s repeated: config changed between deliveries: %v then %v", e.ID, e.Config, answer.Config)
	}
	return true
}

// update PATCHes and expects the answer to show the change.
func (d *driver) update(ctx context.Context, e *extension, u update) bool {
	fields := map[string]any{}
	if u.readRegions != nil {
		fields["read_regions"] = u.readRegions
	}
	if u.plan != "" {
		fields["plan"] = u.plan
	}
	resp, err := d.call.deliver(ctx, "PATCH "+e.ID, func(ctx context.Context, c *flyside.Client) (*flyside.Response, error) {
		return c.Update(ctx, e.ID, fields)
	})
	if err != nil {
		e.Undelivered = err.Error()
		return false
	}
	if resp.StatusCode != http.StatusOK {
		d.anomaly("PATCH %s %v: HTTP %d %s", e.ID, fields, resp.StatusCode, resp.Body)
		e.Undelivered = fmt.Sprintf("PATCH answered %d", resp.StatusCode)
		return false
	}
	if u.readRegions != nil {
		e.ReadRegions = u.readRegions
	}
	if u.plan != "" {
		e.Plan = u.plan
	}
	e.Updates++
	var got struct {
		ReadRegions []string `json:"read_regions"`
		Plan        string   `json:"plan"`
	}
	if err := json.Unmarshal(resp.Body, &got); err != nil {
		d.anomaly("PATCH %s: answer is not JSON: %s", e.ID, resp.Body)
	} else if !slices.Equal(got.ReadRegions, nonNil(e.ReadRegions)) || got.Plan != planOrDefault(e.Plan) {
		d.anomaly("PATCH %s: answer shows read_regions %v plan %q, want %v %q", e.ID, got.ReadRegions, got.Plan, e.ReadRegions, planOrDefault(e.Plan))
	}
	return true
}

// remove DELETEs: 202 while teardown runs, 200 if it is already done.
func (d *driver) remove(ctx context.Context, e *extension) {
	resp, err := d.call.deliver(ctx, "DELETE "+e.ID, func(ctx context.Context, c *flyside.Client) (*flyside.Response, error) {
		return c.Delete(ctx, e.ID)
	})
	if err != nil {
		e.Undelivered = err.Error()
		return
	}
	if resp.StatusCode != http.StatusAccepted && resp.StatusCode != http.StatusOK {
		d.anomaly("DELETE %s: HTTP %d %s", e.ID, resp.StatusCode, resp.Body)
		e.Undelivered = fmt.Sprintf("DELETE answered %d", resp.StatusCode)
		return
	}
	e.Deleted = true
}

func planOrDefault(p string) string {
	if p == "" {
		return defaultPlanName
	}
	return p
}
