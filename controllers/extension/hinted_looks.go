package extension

import (
	"context"
	"maps"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
)

// defaultEventInterval is Settings.MachineEventInterval's default.
const defaultEventInterval = time.Second

// hintedLooks enqueues an Extension whose machine-event annotation moved
// (the gateway's poke: Fly said one of its machines changed), at most once
// per interval. Every gateway replica pokes on its own, each limited to
// one poke per interval, so without this the leader would look at Fly once
// per replica per interval. A poke that comes while a hinted look is
// already waiting folds into it; one that comes sooner than an interval
// after the last hinted look waits for the interval to end, so no hint
// goes unanswered for longer than that.
type hintedLooks struct {
	interval time.Duration

	mu sync.Mutex
	// scheduled is when the last hinted look of each extension was due.
	scheduled map[types.NamespacedName]time.Time
}

var _ handler.TypedEventHandler[client.Object, reconcile.Request] = (*hintedLooks)(nil)

// maxHintedLooks bounds the memory of past looks; beyond it, those more
// than an interval old are forgotten (they no longer delay anything).
const maxHintedLooks = 4096

// Update is the only event that carries a poke.
func (h *hintedLooks) Update(_ context.Context, e event.UpdateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
	if e.ObjectOld == nil || e.ObjectNew == nil ||
		e.ObjectOld.GetAnnotations()[jetwayv1.AnnotationMachineEvent] == e.ObjectNew.GetAnnotations()[jetwayv1.AnnotationMachineEvent] {
		return
	}
	key := client.ObjectKeyFromObject(e.ObjectNew)
	if wait, ok := h.due(key, time.Now()); ok {
		q.AddAfter(reconcile.Request{NamespacedName: key}, wait)
	}
}

// due reports how long from now the look a poke asks for should wait,
// or false when it folds into a look already waiting.
func (h *hintedLooks) due(key types.NamespacedName, now time.Time) (time.Duration, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.scheduled == nil {
		h.scheduled = map[types.NamespacedName]time.Time{}
	}
	last, seen := h.scheduled[key]
	if seen && last.After(now) {
		return 0, false
	}
	at := now
	if seen && last.Add(h.interval).After(now) {
		at = last.Add(h.interval)
	}
	if len(h.scheduled) >= maxHintedLooks {
		maps.DeleteFunc(h.scheduled, func(_ types.NamespacedName, t time.Time) bool { return now.Sub(t) > h.interval })
	}
	h.scheduled[key] = at
	return at.Sub(now), true
}

func (*hintedLooks) Create(context.Context, event.CreateEvent, workqueue.TypedRateLimitingInterface[reconcile.Request]) {
}

func (*hintedLooks) Delete(context.Context, event.DeleteEvent, workqueue.TypedRateLimitingInterface[reconcile.Request]) {
}

func (*hintedLooks) Generic(context.Context, event.GenericEvent, workqueue.TypedRateLimitingInterface[reconcile.Request]) {
}

// annotationsChangedBesidesHint is AnnotationChangedPredicate without the
// machine-event annotation, which hintedLooks rate-limits: an operator's
// pause or restore annotation must be acted on at once.
type annotationsChangedBesidesHint struct {
	predicate.Funcs
}

func (annotationsChangedBesidesHint) Update(e event.UpdateEvent) bool {
	if e.ObjectOld == nil || e.ObjectNew == nil {
		return false
	}
	withoutHint := func(o client.Object) map[string]string {
		a := maps.Clone(o.GetAnnotations())
		delete(a, jetwayv1.AnnotationMachineEvent)
		return a
	}
	return !maps.Equal(withoutHint(e.ObjectOld), withoutHint(e.ObjectNew))
}
