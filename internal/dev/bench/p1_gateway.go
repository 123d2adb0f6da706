package bench

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
	"github.com/jetway-dev/jetway/internal/dev/loadgen"
)

// measureGateway runs P1: the gateway's POST latency under mixed signed
// traffic, beside the latency of creating the same Extension objects
// straight through the API server at the same create rate, on the same
// stack, right after.
func measureGateway(ctx context.Context, cfg Config) Result {
	r := Result{ID: "P1", Figure: "gateway POST (new) p99 at mixed load", Unit: "ms", Goal: "p99 ≤ 1.5× floor"}
	s, err := startStack(ctx, cfg, "p1", stackOptions{})
	if err != nil {
		r.Err = err.Error()
		return r
	}
	defer s.close()

	duration := cfg.scaledDuration(cfg.P1Duration, 2*time.Second)
	fmt.Fprintf(cfg.Progress, "bench: P1: %d req/s of mixed signed traffic for %s\n", cfg.P1Rate, duration)
	profiled := make(chan error, 1)
	if cfg.Profiles != "" {
		go func() {
			url := fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", s.pprofAddrs[0], max(1, int(duration.Seconds())-1))
			profiled <- download(ctx, &http.Client{Timeout: duration + time.Minute}, url, filepath.Join(cfg.Profiles, "p1-cpu.pprof"))
		}()
	} else {
		profiled <- nil
	}
	rep, err := loadgen.Run(ctx, loadgen.Config{
		GatewayURL: s.fly.BaseURL, Secret: s.fly.Secret, Rate: cfg.P1Rate, Duration: duration, Seed: 1,
	})
	if err != nil && rep == nil {
		r.Err = err.Error()
		return r
	}
	if perr := <-profiled; perr != nil {
		fmt.Fprintf(cfg.Progress, "bench: P1: no CPU profile: %v\n", perr)
	}
	var posts loadgen.KindStats
	for _, k := range rep.ByKind {
		if k.Kind == "POST new" {
			posts = k
		}
	}
	// What replay protection across replicas costs each changing request:
	// its claim in the cluster-wide ledger, made before the handler's own
	// work and so added to its latency whole.
	claims, err := scrapeHistogram(ctx, &http.Client{Timeout: 5 * time.Second}, "http://"+s.metricsAddrs[0]+"/metrics",
		"jetway_replay_claim_duration_seconds", nil)
	if err != nil {
		r.Err = err.Error()
		return r
	}
	mix := loadgen.DefaultMix
	createRate := float64(cfg.P1Rate) * float64(mix.Create) / float64(mix.Create+mix.Repeat+mix.Get+mix.Update+mix.Delete)
	fmt.Fprintf(cfg.Progress, "bench: P1 floor: creating Extensions straight through the API server at %.0f/s for %s\n", createRate, duration)
	direct, err := directCreates(ctx, s, createRate, duration)
	if err != nil {
		r.Err = err.Error()
		return r
	}
	r.Value, r.Floor = ms(posts.P99), percentile(direct, 99)
	r.Ratio = ratio(r.Value, r.Floor)
	r.Met = r.Ratio > 0 && r.Ratio <= 1.5 && rep.ServerErrors() == 0
	r.Detail = fmt.Sprintf("POST new p50 %.0f ms p99 %.0f ms (%d POSTs); all requests p50 %.0f ms p99 %.0f ms at %.0f req/s achieved, %d 5xx; direct creates p50 %.0f ms p99 %.0f ms (%d); replay ledger, included above: %d claims, mean %.1f ms, p99 ≤ %.1f ms each",
		ms(posts.P50), r.Value, posts.Count, ms(rep.P50), ms(rep.P99), rep.AchievedRate, rep.ServerErrors(),
		percentile(direct, 50), r.Floor, len(direct), claims.count, claims.mean()*1000, claims.quantile(0.99)*1000)
	return r
}

// directCreates creates Extensions, shaped as the gateway makes them, at
// rate per second for d, and returns each create's latency.
func directCreates(ctx context.Context, s *stack, rate float64, d time.Duration) ([]time.Duration, error) {
	const ns = "bench-direct"
	if err := s.k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
		return nil, fmt.Errorf("create namespace %s: %w", ns, err)
	}
	var (
		mu    sync.Mutex
		out   []time.Duration
		first error
		wg    sync.WaitGroup
	)
	tick := time.NewTicker(time.Duration(float64(time.Second) / rate))
	defer tick.Stop()
	end := time.Now().Add(d)
	for i := 0; time.Now().Before(end); i++ {
		<-tick.C
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			id := fmt.Sprintf("direct-%05d", i)
			ext := &jetwayv1.Extension{
				ObjectMeta: metav1.ObjectMeta{Name: "ext-" + id, Namespace: ns,
					Labels:      map[string]string{jetwayv1.LabelManagedBy: jetwayv1.ManagedByJetway},
					Annotations: map[string]string{jetwayv1.AnnotationOrigin: jetwayv1.OriginFly}},
				Spec: jetwayv1.ExtensionSpec{ID: id, Name: id, Organization: jetwayv1.OrganizationRef{ID: "direct-org"},
					PrimaryRegion: "iad", ReadRegions: []string{}},
			}
			start := time.Now()
			err := s.k8s.Create(ctx, ext)
			took := time.Since(start)
			mu.Lock()
			defer mu.Unlock()
			if err != nil && first == nil {
				first = fmt.Errorf("create %s: %w", ext.Name, err)
			}
			out = append(out, took)
		}(i)
	}
	wg.Wait()
	return out, first
}
