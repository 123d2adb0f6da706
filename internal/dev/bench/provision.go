package bench

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
)

// provisioned is one extension of a provisioning workload.
type provisioned struct {
	id     string
	postAt time.Time // when its POST was sent
	// readyAt is when a watch on the API server first saw it Ready.
	readyAt time.Time
}

// provisionAndWatch POSTs n extensions named prefix-NNNN on plan (""
// for the default plan) through the gateway, rate per second (0: all at
// once, 16 in flight), and waits until a watch has seen every one Ready,
// or timeout. Each extension has one machine (a primary in iad, no read
// regions): the plan's critical path, and nothing more, is what the
// figures compare against.
func provisionAndWatch(ctx context.Context, s *stack, prefix, plan string, n int, rate float64, timeout time.Duration, progress io.Writer) ([]*provisioned, error) {
	wc, err := client.NewWithWatch(s.cp.Config, client.Options{Scheme: scheme()})
	if err != nil {
		return nil, err
	}
	w, err := wc.Watch(ctx, &jetwayv1.ExtensionList{})
	if err != nil {
		return nil, fmt.Errorf("watch extensions: %w", err)
	}
	defer w.Stop()

	exts := make([]*provisioned, n)
	byID := map[string]*provisioned{}
	for i := range exts {
		exts[i] = &provisioned{id: fmt.Sprintf("%s-%04d", prefix, i)}
		byID[exts[i].id] = exts[i]
	}
	var mu sync.Mutex // guards postAt/readyAt between the senders and the watch
	ready := 0
	allReady := make(chan struct{})
	go func() {
		for ev := range w.ResultChan() {
			ext, ok := ev.Object.(*jetwayv1.Extension)
			if !ok || ev.Type == watch.Deleted || !meta.IsStatusConditionTrue(ext.Status.Conditions, jetwayv1.ConditionReady) {
				continue
			}
			seen := time.Now()
			mu.Lock()
			if p := byID[ext.Spec.ID]; p != nil && p.readyAt.IsZero() {
				p.readyAt = seen
				ready++
				if ready == n {
					close(allReady)
				}
			}
			mu.Unlock()
		}
	}()

	errs := make(chan error, n)
	slots := make(chan struct{}, 16)
	var senders sync.WaitGroup
	// Every sender is done before the caller reads what they wrote.
	defer senders.Wait()
	var tick <-chan time.Time
	if rate > 0 {
		t := time.NewTicker(time.Duration(float64(time.Second) / rate))
		defer t.Stop()
		tick = t.C
	}
	for i, p := range exts {
		if tick != nil && i > 0 {
			<-tick
		}
		slots <- struct{}{}
		senders.Add(1)
		go func(p *provisioned) {
			defer func() { <-slots; senders.Done() }()
			mu.Lock()
			p.postAt = time.Now()
			mu.Unlock()
			body := map[string]any{
				"id": p.id, "name": p.id, "organization_id": prefix + "-org", "user_id": "user-1",
				"primary_region": "iad", "read_regions": []string{},
			}
			if plan != "" {
				body["plan"] = plan
			}
			resp, err := s.fly.Create(ctx, body)
			switch {
			case err != nil:
				errs <- fmt.Errorf("POST %s: %w", p.id, err)
			case resp.StatusCode != 201 && resp.StatusCode != 200:
				errs <- fmt.Errorf("POST %s: HTTP %d: %s", p.id, resp.StatusCode, resp.Body)
			}
		}(p)
	}
	fmt.Fprintf(progress, "bench: %d extensions posted, waiting for Ready\n", n)
	deadline := time.After(timeout)
	for {
		select {
		case err := <-errs:
			return exts, err
		case <-allReady:
			return exts, nil
		case <-deadline:
			mu.Lock()
			defer mu.Unlock()
			return exts, fmt.Errorf("only %d of %d extensions Ready after %s", ready, n, timeout)
		case <-time.After(10 * time.Second):
			mu.Lock()
			fmt.Fprintf(progress, "bench: %d/%d Ready\n", ready, n)
			mu.Unlock()
		case <-ctx.Done():
			return exts, ctx.Err()
		}
	}
}
