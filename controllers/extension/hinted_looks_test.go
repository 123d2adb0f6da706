package extension

import (
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/types"
)

func TestHintedLooksRunAtMostOncePerInterval(t *testing.T) {
	h := &hintedLooks{interval: 5 * time.Second}
	key := types.NamespacedName{Namespace: "ns", Name: "ext"}
	t0 := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	steps := []struct {
		at       time.Duration // since t0
		wait     time.Duration
		enqueued bool
	}{
		{0, 0, true},                             // quiet: look at once
		{time.Second, 4 * time.Second, true},     // too soon: at the interval's end
		{2 * time.Second, 0, false},              // a look is already waiting: folded
		{4900 * time.Millisecond, 0, false},      // still waiting
		{6 * time.Second, 4 * time.Second, true}, // after the 5 s look: the next at 10 s
		{30 * time.Second, 0, true},              // quiet again
	}
	for _, s := range steps {
		wait, ok := h.due(key, t0.Add(s.at))
		if ok != s.enqueued || wait != s.wait {
			t.Errorf("poke at +%s: wait %s enqueued %v; want %s %v", s.at, wait, ok, s.wait, s.enqueued)
		}
	}
	if wait, ok := h.due(types.NamespacedName{Namespace: "ns", Name: "other"}, t0.Add(time.Second)); !ok || wait != 0 {
		t.Errorf("another extension's first poke waits %s (%v)", wait, ok)
	}
}
