package extension

import (
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/types"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
)

// A Ready extension whose spec has not changed is looked at, on a resync,
// with one Fly call: the list of its machines, which is where drift
// happens (a host fails, someone runs `fly machine destroy`, Fly restarts a
// machine). Its app, the app's secrets and its Flycast address are
// Jetway's own, in the provider's organization where customers cannot
// touch them, and change only when Jetway changes them: they are checked
// in full on a change, on this replica's first pass over the extension (so
// a new leader verifies everything once), when the look finds the app
// gone, and every Settings.FullCheck. P6 in make bench counts the calls.

// fullChecks remembers, per Extension, when this replica last checked it
// in full. It is memory, not status: writing a time into status on every
// full check would cost an API write per extension per interval, and a
// replica that never checked an extension is right to do so once.
type fullChecks struct {
	mu sync.Mutex
	at map[types.UID]time.Time
}

// due reports whether ext needs a full check rather than a look.
func (f *fullChecks) due(ext *jetwayv1.Extension, every time.Duration, now time.Time) bool {
	if every <= 0 || ext.Generation != ext.Status.ObservedGeneration || ext.Status.FlycastIP == "" {
		return true
	}
	for _, c := range []string{jetwayv1.ConditionReady, jetwayv1.ConditionAppReady, jetwayv1.ConditionNetworkReady} {
		if !meta.IsStatusConditionTrue(ext.Status.Conditions, c) {
			return true
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	last, ok := f.at[ext.UID]
	return !ok || now.Sub(last) >= every
}

// done records a full check of ext that succeeded at now.
func (f *fullChecks) done(ext *jetwayv1.Extension, now time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.at == nil {
		f.at = map[types.UID]time.Time{}
	}
	f.at[ext.UID] = now
}

// forget drops what is remembered of ext: it is being deleted.
func (f *fullChecks) forget(ext *jetwayv1.Extension) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.at, ext.UID)
}
