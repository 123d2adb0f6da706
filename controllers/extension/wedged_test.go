package extension

import (
	"testing"
	"time"

	"github.com/jetway-dev/jetway/internal/fly"
)

func TestWedgedSince(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	at := func(ago time.Duration) string { return now.Add(-ago).Format(time.RFC3339) }
	for _, tc := range []struct {
		name    string
		state   string
		updated string
		after   time.Duration
		want    bool
	}{
		{"starting past the threshold", "starting", at(6 * time.Minute), 5 * time.Minute, true},
		{"stopping past the threshold", "stopping", at(6 * time.Minute), 5 * time.Minute, true},
		{"starting within the threshold", "starting", at(4 * time.Minute), 5 * time.Minute, false},
		{"started long ago is settled", "started", at(time.Hour), 5 * time.Minute, false},
		{"stopped long ago is settled", "stopped", at(time.Hour), 5 * time.Minute, false},
		{"failed is handled by restarts", "failed", at(time.Hour), 5 * time.Minute, false},
		{"unparseable updated_at is not judged", "starting", "yesterday", 5 * time.Minute, false},
		{"threshold 0 never judges", "starting", at(time.Hour), 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := &fly.Machine{State: tc.state, UpdatedAt: tc.updated}
			if _, got := wedgedSince(m, tc.after, now); got != tc.want {
				t.Fatalf("wedged = %v, want %v", got, tc.want)
			}
		})
	}
}
