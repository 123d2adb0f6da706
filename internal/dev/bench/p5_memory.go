package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
)

// memory is one reading of the manager's memory.
type memory struct {
	heapMiB float64 // live Go heap, marked by a GC forced for the reading
	rssMiB  float64 // resident set, the highest seen
}

// measureMemory runs P5: the manager's Go heap and RSS with 0, 1,000 and
// 10,000 Extensions in its cache. The Extensions are created straight in
// the API server, paused (jetway.dev/paused) so that nothing reconciles
// them, before each start of the manager; each reading is taken once the
// gateway answers, which it does only after the caches have synced.
func measureMemory(ctx context.Context, cfg Config) (heap, rss Result) {
	heap = Result{ID: "P5", Figure: "manager heap per cached extension", Unit: "KiB", Goal: "≤ 4 KiB"}
	rss = Result{ID: "P5", Figure: "manager RSS with the most extensions cached", Unit: "MiB", Goal: "≤ 150 MiB"}
	fail := func(err error) (Result, Result) {
		heap.Err, rss.Err = err.Error(), err.Error()
		return heap, rss
	}
	s, err := startStack(ctx, cfg, "p5", stackOptions{})
	if err != nil {
		return fail(err)
	}
	defer s.close()
	metricsAddr, pprofAddr := s.metricsAddrs[0], s.pprofAddrs[0]
	if err := s.k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: cachedNamespace}}); err != nil {
		return fail(err)
	}

	sizes := []int{0, cfg.scaled(1000, 10), cfg.scaled(10000, 20)}
	readings := make([]memory, len(sizes))
	created := 0
	for i, n := range sizes {
		if n > created {
			if err := s.manager.Stop(); err != nil {
				return fail(err)
			}
			fmt.Fprintf(cfg.Progress, "bench: P5: creating %d paused extensions\n", n-created)
			if err := createPaused(ctx, s, created, n); err != nil {
				return fail(err)
			}
			created = n
			if err := s.manager.Start(); err != nil {
				return fail(err)
			}
			if err := s.manager.WaitGateway(ctx, 5*time.Minute); err != nil {
				return fail(err)
			}
		}
		fmt.Fprintf(cfg.Progress, "bench: P5: reading the manager's memory with %d extensions cached\n", n)
		profile := filepath.Join(s.dir, fmt.Sprintf("p5-heap-%d.pprof", n))
		if cfg.Profiles != "" {
			profile = filepath.Join(cfg.Profiles, fmt.Sprintf("p5-heap-%d.pprof", n))
		}
		if readings[i], err = readMemory(ctx, s.manager.Pid(), metricsAddr, pprofAddr, profile, cfg.P5Sample); err != nil {
			return fail(err)
		}
	}
	top := len(sizes) - 1
	base := readings[0]
	perExt := func(i int) float64 { return (readings[i].heapMiB - base.heapMiB) * 1024 / float64(sizes[i]) }
	heap.Value, heap.Floor = perExt(top), 0
	heap.Met = heap.Value <= 4
	rss.Value, rss.Floor = readings[top].rssMiB, base.rssMiB
	rss.Ratio = ratio(rss.Value, rss.Floor)
	rss.Met = rss.Value <= 150
	var parts []string
	for i, n := range sizes {
		parts = append(parts, fmt.Sprintf("%d: heap %.1f MiB, RSS %.1f MiB", n, readings[i].heapMiB, readings[i].rssMiB))
	}
	heap.Detail = fmt.Sprintf("%.2f KiB per extension at %d, %.2f at %d; floor: the same manager with none cached (%s)",
		heap.Value, sizes[top], perExt(1), sizes[1], strings.Join(parts, "; "))
	return heap, rss
}

const cachedNamespace = "bench-cached"

// createPaused creates Extensions number from to to-1, 32 at a time.
func createPaused(ctx context.Context, s *stack, from, to int) error {
	var (
		next  atomic.Int64
		wg    sync.WaitGroup
		first atomic.Value
	)
	next.Store(int64(from))
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= to || first.Load() != nil {
					return
				}
				id := fmt.Sprintf("cached-%05d", i)
				ext := &jetwayv1.Extension{
					ObjectMeta: metav1.ObjectMeta{Name: "ext-" + id, Namespace: cachedNamespace,
						Labels:      map[string]string{jetwayv1.LabelManagedBy: jetwayv1.ManagedByJetway},
						Annotations: map[string]string{jetwayv1.AnnotationPaused: "true", jetwayv1.AnnotationOrigin: jetwayv1.OriginFly}},
					Spec: jetwayv1.ExtensionSpec{ID: id, Name: id, Organization: jetwayv1.OrganizationRef{ID: "cached-org"},
						PrimaryRegion: "iad", ReadRegions: []string{"syd", "ams"}},
				}
				if err := s.k8s.Create(ctx, ext); err != nil {
					first.CompareAndSwap(nil, fmt.Errorf("create %s: %w", ext.Name, err))
					return
				}
			}
		}()
	}
	wg.Wait()
	if err, _ := first.Load().(error); err != nil {
		return err
	}
	return nil
}

// readMemory samples the manager's RSS from /proc for d, then has it
// collect its garbage and write a heap profile (to profile, for whoever
// wants to see what the heap holds), and reads the live heap that GC
// marked from its metrics. Without the forced GC an idle manager may not
// collect for two minutes, and any heap figure would count garbage.
func readMemory(ctx context.Context, pid int, metricsAddr, pprofAddr, profile string, d time.Duration) (memory, error) {
	var m memory
	hc := &http.Client{Timeout: 30 * time.Second}
	end := time.Now().Add(d)
	for {
		rssKiB, err := procStatusKiB(pid, "VmRSS")
		if err != nil {
			return m, err
		}
		m.rssMiB = max(m.rssMiB, rssKiB/1024)
		if !time.Now().Before(end) {
			break
		}
		select {
		case <-ctx.Done():
			return m, ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
	if err := download(ctx, hc, "http://"+pprofAddr+"/debug/pprof/heap?gc=1", profile); err != nil {
		return m, err
	}
	live, err := scrapeSum(ctx, hc, "http://"+metricsAddr+"/metrics", "go_gc_heap_live_bytes", nil)
	if err != nil {
		return m, err
	}
	m.heapMiB = live / (1 << 20)
	return m, nil
}

// download saves what url answers to path.
func download(ctx context.Context, hc *http.Client, url, path string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("get %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("get %s: HTTP %d", url, resp.StatusCode)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	_, err = io.Copy(f, resp.Body)
	return errors.Join(err, f.Close())
}

// procStatusKiB reads a "kB" field of /proc/PID/status.
func procStatusKiB(pid int, field string) (float64, error) {
	if pid == 0 {
		return 0, fmt.Errorf("the manager is not running")
	}
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			return strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
		}
	}
	return 0, fmt.Errorf("/proc/%d/status has no %s", pid, field)
}
