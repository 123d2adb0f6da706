package gateway

import (
	"context"
	"fmt"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
)

// hintLimiter turns machine events into pokes of their Extension, at most
// one per extension per interval on this replica: the first event of a
// quiet extension pokes at once, and the events that follow within the
// interval fold into one poke at its end, carrying the latest of them. So
// no event is lost (the look at the end sees what they announced) and a
// flood of them, forged or not, costs one API write per interval. The
// controller limits the looks the pokes of all replicas ask for the same
// way (controllers/extension, hintedLooks).
type hintLimiter struct {
	interval time.Duration
	// poke writes the hint (Server.pokeExtension).
	poke func(ctx context.Context, key types.NamespacedName, latest machineEvent) error
	// ctx outlives requests: a trailing poke runs after its request ended.
	ctx context.Context

	mu    sync.Mutex
	byExt map[types.NamespacedName]*hintState
}

type hintState struct {
	last    time.Time     // the last poke
	pending *machineEvent // the latest event folded into the next poke
}

// maxIdleHints bounds the memory of extensions that were poked once and
// are quiet since: beyond it, those idle for an interval are forgotten.
const maxIdleHints = 4096

// hint pokes key now, or folds ev into the next poke (folded true). An
// error is the immediate poke's.
func (h *hintLimiter) hint(ctx context.Context, key types.NamespacedName, ev machineEvent) (folded bool, err error) {
	now := time.Now()
	h.mu.Lock()
	if h.byExt == nil {
		h.byExt = map[types.NamespacedName]*hintState{}
	}
	st := h.byExt[key]
	if st != nil && now.Sub(st.last) < h.interval {
		if st.pending == nil {
			time.AfterFunc(st.last.Add(h.interval).Sub(now), func() { h.trail(key) })
		}
		st.pending = &ev
		h.mu.Unlock()
		return true, nil
	}
	if len(h.byExt) >= maxIdleHints {
		h.forgetIdle(now)
	}
	h.byExt[key] = &hintState{last: now}
	h.mu.Unlock()
	return false, h.poke(ctx, key, ev)
}

// trail makes the poke the folded events wait for.
func (h *hintLimiter) trail(key types.NamespacedName) {
	h.mu.Lock()
	st := h.byExt[key]
	if st == nil || st.pending == nil {
		h.mu.Unlock()
		return
	}
	ev := *st.pending
	st.pending, st.last = nil, time.Now()
	h.mu.Unlock()
	ctx := h.ctx
	if ctx == nil {
		ctx = context.Background()
	}
	// A failed trailing poke is not retried: the next event or the resync
	// looks instead.
	_ = h.poke(ctx, key, ev)
}

func (h *hintLimiter) forgetIdle(now time.Time) {
	for k, st := range h.byExt {
		if st.pending == nil && now.Sub(st.last) >= h.interval {
			delete(h.byExt, k)
		}
	}
}

// pokeExtension records the event on the Extension (kubectl describe)
// and moves its machine-event annotation, which asks the controller for a
// look. The annotation holds our clock's time, not the event's: an
// unsigned event's time is the sender's word.
func (s *Server) pokeExtension(ctx context.Context, key types.NamespacedName, latest machineEvent) error {
	ext := &jetwayv1.Extension{}
	if err := s.client.Get(ctx, key, ext); err != nil {
		return client.IgnoreNotFound(err)
	}
	s.recordMachineEvent(ext, latest)
	patch := client.MergeFrom(ext.DeepCopy())
	if ext.Annotations == nil {
		ext.Annotations = map[string]string{}
	}
	ext.Annotations[jetwayv1.AnnotationMachineEvent] = time.Now().UTC().Format(time.RFC3339Nano)
	if err := s.client.Patch(ctx, ext, patch, fieldOwner); client.IgnoreNotFound(err) != nil {
		err = fmt.Errorf("poke extension %s: %w", key, err)
		s.log.Error(err, "Machine event not passed on; the next event or the resync looks instead")
		return err
	}
	return nil
}
