package machines

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"
)

// Faults travel as JSON over /flysim/v1/faults. Durations are Go duration
// strings ("200ms"), not nanosecond counts, so a person can read and write
// them with curl.

type faultsJSON struct {
	Seed              int64   `json:"seed"`
	LatencyP50        string  `json:"latency_p50"`
	LatencyP95        string  `json:"latency_p95"`
	ServerErrorRate   float64 `json:"server_error_rate"`
	HangRate          float64 `json:"hang_rate"`
	HangFor           string  `json:"hang_for"`
	LostResponseRate  float64 `json:"lost_response_rate"`
	CapacityErrorRate float64 `json:"capacity_error_rate"`
	CrashRate         float64 `json:"crash_rate"`
	// Left out when zero, so the faults JSON of a run without events reads
	// as it did before the knob existed.
	DuplicateEventRate float64 `json:"duplicate_event_rate,omitempty"`
	AbandonedActRate   float64 `json:"abandoned_act_rate,omitempty"`
}

// MarshalJSON implements json.Marshaler.
func (f Faults) MarshalJSON() ([]byte, error) {
	return json.Marshal(faultsJSON{
		Seed:               f.Seed,
		LatencyP50:         f.LatencyP50.String(),
		LatencyP95:         f.LatencyP95.String(),
		ServerErrorRate:    f.ServerErrorRate,
		HangRate:           f.HangRate,
		HangFor:            f.HangFor.String(),
		LostResponseRate:   f.LostResponseRate,
		CapacityErrorRate:  f.CapacityErrorRate,
		CrashRate:          f.CrashRate,
		DuplicateEventRate: f.DuplicateEventRate,
		AbandonedActRate:   f.AbandonedActRate,
	})
}

// UnmarshalJSON implements json.Unmarshaler. Missing fields are zero;
// unknown fields are an error, since a misspelt rate would otherwise be
// silently off.
func (f *Faults) UnmarshalJSON(b []byte) error {
	var in faultsJSON
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return err
	}
	out := Faults{
		Seed:               in.Seed,
		ServerErrorRate:    in.ServerErrorRate,
		HangRate:           in.HangRate,
		LostResponseRate:   in.LostResponseRate,
		CapacityErrorRate:  in.CapacityErrorRate,
		CrashRate:          in.CrashRate,
		DuplicateEventRate: in.DuplicateEventRate,
		AbandonedActRate:   in.AbandonedActRate,
	}
	for _, d := range []struct {
		name string
		in   string
		out  *time.Duration
	}{
		{"latency_p50", in.LatencyP50, &out.LatencyP50},
		{"latency_p95", in.LatencyP95, &out.LatencyP95},
		{"hang_for", in.HangFor, &out.HangFor},
	} {
		if d.in == "" {
			continue
		}
		v, err := time.ParseDuration(d.in)
		if err != nil {
			return fmt.Errorf("%s: %w", d.name, err)
		}
		*d.out = v
	}
	*f = out
	return nil
}
