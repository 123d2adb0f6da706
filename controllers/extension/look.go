package extension

import (
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
)

// A Ready extension whose spec has not changed is looked at, on a resync,
// with one Fly call: the list of its machines, which is where drift
// happens (a host fails, someone runs `fly machine destroy`, Fly restarts a
// machine). Its app, the app's secrets and its Flycast address are
// Jetway's own, in the provider's organization where customers cannot
// touch them, and change only when Jetway changes them: they are checked
// in full on a change, when the look finds the app gone, every
// Settings.FullCheck, and for settleResyncs resyncs after the extension
// became Ready or this replica took it over. That last window is for
// Jetway's own requests that land late: an IP assignment whose caller was
// killed can be carried out after the next leader made its own (the chaos
// run met this), and only a full check releases the extra address. Such a
// request lands within its caller's HTTP timeout, well inside two
// resyncs. P6 in make bench counts the calls.

// settleResyncs is how many resyncs after Ready or a takeover are still
// full checks.
const settleResyncs = 2

// fullChecks remembers, per Extension, when this replica first and last
// checked it in full. It is memory, not status: writing a time into status
// on every full check would cost an API write per extension per interval,
// and a replica that never checked an extension is right to do so.
type fullChecks struct {
	mu sync.Mutex
	at map[types.UID]checkTimes
}

type checkTimes struct {
	first, last time.Time
	// generation is the Extension's generation at the last full check.
	generation int64
}

// fullCheckSpacing is how long after a full check another pass of the
// same generation makes do with a look, whatever else: a new extension's
// machines send an event at each state (created, starting, started), and
// each makes a pass. Checking the app, its secrets, its address and its
// volumes on each would spend Fly's per-app budget (1 request/s, bursts
// of 3) within a second, and the pass that sees the machine start would
// wait on it. At most half a resync, so the resyncs of the settle window
// below are still full checks.
func fullCheckSpacing(resync time.Duration) time.Duration {
	return min(5*time.Second, resync/2)
}

// due reports whether ext needs a full check rather than a look.
func (f *fullChecks) due(ext *jetwayv1.Extension, every, resync time.Duration, now time.Time) bool {
	if every <= 0 || ext.Generation != ext.Status.ObservedGeneration || ext.Status.FlycastIP == "" {
		return true
	}
	for _, c := range []string{jetwayv1.ConditionAppReady, jetwayv1.ConditionNetworkReady} {
		if !meta.IsStatusConditionTrue(ext.Status.Conditions, c) {
			return true
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	t, ok := f.at[ext.UID]
	if ok && t.generation == ext.Generation && now.Sub(t.last) < fullCheckSpacing(resync) {
		return false
	}
	ready := meta.FindStatusCondition(ext.Status.Conditions, jetwayv1.ConditionReady)
	settle := settleResyncs * resync
	if ready == nil || ready.Status != metav1.ConditionTrue || now.Sub(ready.LastTransitionTime.Time) < settle {
		return true
	}
	return !ok || now.Sub(t.first) < settle || now.Sub(t.last) >= every
}

// done records a full check of ext that succeeded at now.
func (f *fullChecks) done(ext *jetwayv1.Extension, now time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.at == nil {
		f.at = map[types.UID]checkTimes{}
	}
	t, ok := f.at[ext.UID]
	if !ok {
		t.first = now
	}
	t.last, t.generation = now, ext.Generation
	f.at[ext.UID] = t
}

// forget drops what is remembered of ext: it is being deleted.
func (f *fullChecks) forget(ext *jetwayv1.Extension) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.at, ext.UID)
}
