package bench

import (
	"context"
	"fmt"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// watchLatency measures how long a write to the API server takes to be
// seen by a watch, from just before the write is sent: samples updates of
// one ConfigMap, one at a time. It is the floor of anything that reacts
// to a status change.
func watchLatency(ctx context.Context, s *stack, samples int) ([]time.Duration, error) {
	wc, err := client.NewWithWatch(s.cp.Config, client.Options{Scheme: scheme()})
	if err != nil {
		return nil, err
	}
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "bench-watch-probe", Namespace: "default"}, Data: map[string]string{"n": "0"}}
	if err := wc.Create(ctx, cm); err != nil {
		return nil, fmt.Errorf("create probe: %w", err)
	}
	w, err := wc.Watch(ctx, &corev1.ConfigMapList{}, client.InNamespace("default"),
		client.MatchingFields{"metadata.name": cm.Name})
	if err != nil {
		return nil, fmt.Errorf("watch probe: %w", err)
	}
	defer w.Stop()
	var out []time.Duration
	for i := 1; i <= samples; i++ {
		want := strconv.Itoa(i)
		cm.Data["n"] = want
		start := time.Now()
		if err := wc.Update(ctx, cm); err != nil {
			return nil, fmt.Errorf("update probe: %w", err)
		}
		if err := waitFor(ctx, w, func(o *corev1.ConfigMap) bool { return o.Data["n"] == want }); err != nil {
			return nil, err
		}
		out = append(out, time.Since(start))
	}
	return out, nil
}

func waitFor(ctx context.Context, w watch.Interface, done func(*corev1.ConfigMap) bool) error {
	timeout := time.After(30 * time.Second)
	for {
		select {
		case ev, ok := <-w.ResultChan():
			if !ok {
				return fmt.Errorf("probe watch closed")
			}
			if o, isCM := ev.Object.(*corev1.ConfigMap); isCM && done(o) {
				return nil
			}
		case <-timeout:
			return fmt.Errorf("probe write not seen by the watch within 30 s")
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
