package gateway

import (
	"context"
	"sync"
	"time"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
	"github.com/jetway-dev/jetway/internal/domain"
)

// freshWindow is how long after this replica changed an extension its GET
// reads past the cache: the cache sees a write a few milliseconds after it
// is made, and Fly (or flyctl) reading right after its own PATCH or DELETE
// must see it (found by jetway-dev conformance).
const freshWindow = 2 * time.Second

// recentWrites remembers which extensions this replica changed lately.
type recentWrites struct {
	mu sync.Mutex
	at map[string]time.Time // Fly id → when it was written
}

func (w *recentWrites) wrote(id string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	now := time.Now()
	if w.at == nil {
		w.at = map[string]time.Time{}
	}
	for k, t := range w.at { // a handful at most: only the last window's
		if now.Sub(t) > freshWindow {
			delete(w.at, k)
		}
	}
	w.at[id] = now
}

func (w *recentWrites) recent(id string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	t, ok := w.at[id]
	return ok && time.Since(t) <= freshWindow
}

// findForRead is findByID for answers that must show this replica's own
// latest write: live for freshWindow after one, from the cache otherwise.
func (s *Server) findForRead(ctx context.Context, id string) (*jetwayv1.Extension, error) {
	if s.writes.recent(id) {
		return domain.LiveExtensionByID(ctx, s.live, id)
	}
	return s.findByID(ctx, id)
}
