package election

import (
	"strings"
	"testing"
	"time"
)

func TestTimingsValidate(t *testing.T) {
	s := time.Second
	cases := []struct {
		name   string
		timing Timings
		want   string // "" is valid
	}{
		{"defaults", Timings{}.WithDefaults(), ""},
		{"controller-runtime's", Timings{15 * s, 10 * s, 2 * s}, ""},
		{"no retry", Timings{6 * s, 4 * s, -1}, "retry-period must be positive"},
		{"fractional lease", Timings{5500 * time.Millisecond, 4 * s, s / 2}, "whole number of seconds"},
		{"renew within the jitter of a retry", Timings{6 * s, 1100 * time.Millisecond, s}, "renew-deadline (1.1s) must be longer than 1.2"},
		{"renew as long as the lease", Timings{4 * s, 4 * s, s / 2}, "lease-duration (4s) must be at least"},
		{"lease shorter than renew plus retry", Timings{5 * s, 4500 * time.Millisecond, s}, "must be at least"},
	}
	for _, c := range cases {
		err := c.timing.Validate()
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: got %v, want an error with %q", c.name, err, c.want)
		}
	}
}
