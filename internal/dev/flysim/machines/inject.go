package machines

import (
	"net/http"
	"time"

	"github.com/jetway-dev/jetway/internal/dev/flysim/internal/respond"
)

// Request-level faults: decided once per request, after authentication and
// the rate limit (a rejected request never reaches Fly's backends, so it
// cannot fail there either), and before the handler runs.

// requestFaults is what the dice decided for one request.
type requestFaults struct {
	hangFor     time.Duration // > 0: hang
	serverError int           // 1 + index into serverErrors; 0: none
	loseAnswer  bool
	// actIfAbandoned carries out a hung request whose caller went away.
	actIfAbandoned bool
}

// lostActions are the calls whose lost answer matters: each commits
// something that a blind retry duplicates (create, assign, snapshot) or
// trips over (destroy, delete).
var lostActions = map[string]bool{
	"machine_create":         true,
	"machine_destroy":        true,
	"app_create":             true,
	"app_delete":             true,
	"ip_assignment_create":   true,
	"volume_create":          true,
	"volume_delete":          true,
	"volume_snapshot_create": true,
}

// serverErrors are what Fly's edge and backends answer when something
// between them breaks. fly-go retries 502 and 503 on its own, 500 not.
var serverErrors = []struct {
	code int
	msg  string
}{
	{http.StatusInternalServerError, "internal: an unexpected error occurred"},
	{http.StatusBadGateway, "bad gateway: upstream connection reset"},
	{http.StatusServiceUnavailable, "unavailable: service temporarily unavailable, try again"},
}

// drawRequestFaultsLocked rolls the dice for one request. It always draws
// the same values, whatever the rates, so changing one rate does not
// change which requests the others hit.
func (s *Server) drawRequestFaultsLocked(action string) requestFaults {
	f := &s.faults
	hang, fail, which, lose := f.request.Float64(), f.request.Float64(), f.request.IntN(len(serverErrors)), f.request.Float64()
	var out requestFaults
	// Its own stream, drawn only for hangs, so it shifts no other fault.
	if hang < f.cfg.HangRate && lostActions[action] {
		out.actIfAbandoned = f.abandon.Float64() < f.cfg.AbandonedActRate
	}
	switch {
	case hang < f.cfg.HangRate:
		out.hangFor = f.cfg.HangFor
		s.injected[faultHang]++
	case fail < f.cfg.ServerErrorRate:
		out.serverError = which + 1 // 0 means none
		s.injected[faultServerError]++
	case lostActions[action] && lose < f.cfg.LostResponseRate:
		out.loseAnswer = true // counted when it happens: only a success can be lost
	}
	return out
}

func serverErrorReply(which int) respond.Reply {
	e := serverErrors[which-1]
	return respond.Err(e.code, e.msg)
}

// hang holds the request without acting. It gives up as soon as nobody is
// waiting: the client disconnected (which needs the body read first, see
// bufferBody) or the server closed. It reports whether the caller went
// away.
func (s *Server) hang(w http.ResponseWriter, r *http.Request, d time.Duration) (abandoned bool) {
	s.mu.Lock()
	s.hung++
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.hung--
		s.mu.Unlock()
	}()

	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		respond.Write(w, respond.Err(http.StatusGatewayTimeout, "deadline_exceeded: upstream did not answer in time"))
		return false
	case <-r.Context().Done():
		// Nobody is listening; what was asked may still be done, later.
		return true
	case <-s.done:
		respond.Write(w, respond.Err(http.StatusServiceUnavailable, "unavailable: server closed"))
		return false
	}
}

// loseAnswer drops a response whose change has already been committed.
// Closing the connection is what a caller sees when Fly's proxy or the
// network fails after flyd acted; where the connection cannot be taken over
// (HTTP/2), a 502 is the other form the same loss takes.
func (s *Server) loseAnswer(w http.ResponseWriter) {
	s.mu.Lock()
	s.injected[faultLostResponse]++
	s.mu.Unlock()
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		respond.Write(w, respond.Err(http.StatusBadGateway, "bad gateway: upstream connection reset"))
		return
	}
	_ = conn.Close()
}

// actAbandoned carries out, at the moment at, a request nobody waits for
// any more, unless the server closes first. Its answer goes nowhere; only a
// success counts as the fault.
func (s *Server) actAbandoned(r *http.Request, h func(*http.Request) respond.Reply, at time.Time) {
	t := time.NewTimer(time.Until(at))
	defer t.Stop()
	select {
	case <-t.C:
	case <-s.done:
		return
	}
	if rp := h(r); rp.Code >= 200 && rp.Code < 300 {
		s.mu.Lock()
		s.injected[faultAbandonedAct]++
		s.mu.Unlock()
	}
}
