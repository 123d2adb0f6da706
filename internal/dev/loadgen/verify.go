package loadgen

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/jetway-dev/jetway/internal/dev/flyside"
)

// verify GETs every accepted id that was not deleted on purpose: each must
// answer 200. A 5xx or no answer is retried a few times, so a passing
// hiccup is not reported as a lost extension (it was already counted as a
// 5xx during the run if it happened then).
func verify(ctx context.Context, fc *flyside.Client, p *pool, rep *Report, concurrency int) {
	ids, deleted := p.toVerify()
	slices.Sort(ids)
	rep.Accepted, rep.DeletedOnPurpose = len(ids)+deleted, deleted
	var mu sync.Mutex
	forEach(ids, concurrency, func(id string) {
		problem := ""
		for attempt := 0; attempt < 5; attempt++ {
			resp, err := fc.Get(ctx, id)
			switch {
			case err != nil:
				problem = err.Error()
			case resp.StatusCode == http.StatusOK:
				problem = ""
			default:
				problem = fmt.Sprintf("GET answers HTTP %d %s", resp.StatusCode, resp.Body)
			}
			if err == nil && resp.StatusCode < 500 {
				break
			}
			time.Sleep(time.Duration(attempt+1) * 200 * time.Millisecond)
		}
		mu.Lock()
		defer mu.Unlock()
		if problem == "" {
			rep.Verified++
		} else {
			rep.Lost = append(rep.Lost, id+": "+problem)
		}
	})
	slices.Sort(rep.Lost)
}

// cleanup deletes what the run left live; answers are not judged.
func cleanup(ctx context.Context, fc *flyside.Client, p *pool, concurrency int) {
	forEach(p.liveIDs(), concurrency, func(id string) { _, _ = fc.Delete(ctx, id) })
}

// forEach runs fn over ids, at most n at once.
func forEach(ids []string, n int, fn func(string)) {
	slots := make(chan struct{}, n)
	var wg sync.WaitGroup
	for _, id := range ids {
		slots <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			fn(id)
		}()
	}
	wg.Wait()
}
