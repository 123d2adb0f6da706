package machines

import "maps"

// Stats is what the simulator has done to its callers, for tests and for
// out-of-process tools (GET /flysim/v1/stats).
type Stats struct {
	// Requests counts requests by action (see Requests).
	Requests map[string]int `json:"requests"`
	// RateLimited counts 429s answered.
	RateLimited int `json:"rate_limited"`
	// Injected counts faults by kind: "server_error", "hang",
	// "lost_response", "capacity", "crash", "abandoned_act". Every kind is
	// present.
	Injected map[string]int `json:"injected"`
}

const (
	faultServerError  = "server_error"
	faultHang         = "hang"
	faultLostResponse = "lost_response"
	faultCapacity     = "capacity"
	faultCrash        = "crash"
	faultAbandonedAct = "abandoned_act"
)

func newInjectedCounts() map[string]int {
	return map[string]int{faultServerError: 0, faultHang: 0, faultLostResponse: 0, faultCapacity: 0, faultCrash: 0, faultAbandonedAct: 0}
}

// Stats returns copies of the counters since New.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return Stats{
		Requests:    maps.Clone(s.requests),
		RateLimited: s.rateLimited,
		Injected:    maps.Clone(s.injected),
	}
}
