package chaos

import (
	"context"
	"fmt"
	"net/http"
	"sync"

	"github.com/jetway-dev/jetway/internal/dev/flyside"
)

// checkFlyView asks the gateway what Fly sees of every extension of the
// run, as Fly's status polling would: a live extension must say ready or
// error (the only words flyctl understands), a deleted one must be gone
// (GET 404, and a repeated DELETE 200).
func checkFlyView(ctx context.Context, c *caller, model []*extension) findings {
	f := findings{}
	var mu sync.Mutex
	slots := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for _, e := range model {
		if !e.Created || e.Undelivered != "" {
			continue
		}
		wg.Add(1)
		slots <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			problem := flyViewProblem(ctx, c, e)
			if problem != "" {
				mu.Lock()
				f.add(invFlyStatus, "%s: %s", e.ID, problem)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return f
}

func flyViewProblem(ctx context.Context, c *caller, e *extension) string {
	resp, err := c.deliver(ctx, "GET "+e.ID, func(ctx context.Context, fc *flyside.Client) (*flyside.Response, error) {
		return fc.Get(ctx, e.ID)
	})
	if err != nil {
		return err.Error()
	}
	if e.Deleted {
		if resp.StatusCode != http.StatusNotFound {
			return fmt.Sprintf("deleted, but GET answers HTTP %d %s", resp.StatusCode, resp.Body)
		}
		resp, err = c.deliver(ctx, "DELETE "+e.ID, func(ctx context.Context, fc *flyside.Client) (*flyside.Response, error) {
			return fc.Delete(ctx, e.ID)
		})
		if err != nil {
			return err.Error()
		}
		if resp.StatusCode != http.StatusOK {
			return fmt.Sprintf("deleted, but a repeated DELETE answers HTTP %d %s", resp.StatusCode, resp.Body)
		}
		return ""
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Sprintf("live, but GET answers HTTP %d %s", resp.StatusCode, resp.Body)
	}
	var body struct {
		Status       string `json:"status"`
		ErrorMessage string `json:"error_message"`
	}
	if err := resp.JSON(&body); err != nil {
		return err.Error()
	}
	if body.Status != "ready" && body.Status != "error" {
		return fmt.Sprintf("status %q is neither ready nor error", body.Status)
	}
	return ""
}
