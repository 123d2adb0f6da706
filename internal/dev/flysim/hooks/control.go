package hooks

import (
	"errors"
	"net/http"

	"github.com/jetway-dev/jetway/internal/dev/flysim/internal/respond"
)

// The sink's part of flysim's control API:
//
//	GET /flysim/v1/webhooks         {"deliveries":[...], "accepted":n, "rejected":n,
//	                                 "failed_on_purpose":n, "recent_rejections":[...]}
//	GET /flysim/v1/webhook-failure  the failure in force
//	PUT /flysim/v1/webhook-failure  {"status":503,"count":2,"until":"<RFC3339>","retry_after":"2s"}

// RegisterControl mounts the routes above on mux, each behind guard.
func (h *Sink) RegisterControl(mux *http.ServeMux, guard func(http.Handler) http.Handler) {
	control := func(pattern string, fn func(*http.Request) respond.Reply) {
		mux.Handle(pattern, guard(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			respond.Write(w, fn(r))
		})))
	}
	control("GET /flysim/v1/webhooks", h.getWebhooksControl)
	control("GET /flysim/v1/webhook-failure", h.getFailureControl)
	control("PUT /flysim/v1/webhook-failure", h.putFailureControl)
}

// webhooksJSON is the body of GET /flysim/v1/webhooks.
type webhooksJSON struct {
	Deliveries       []Delivery  `json:"deliveries"`
	Accepted         int         `json:"accepted"`
	Rejected         int         `json:"rejected"`
	FailedOnPurpose  int         `json:"failed_on_purpose"`
	RecentRejections []rejection `json:"recent_rejections"` // the last 20, oldest first
}

func (h *Sink) getWebhooksControl(*http.Request) respond.Reply {
	out := webhooksJSON{Deliveries: h.Deliveries()}
	out.Accepted, out.Rejected, out.FailedOnPurpose = h.Stats()
	h.mu.Lock()
	out.RecentRejections = append([]rejection{}, h.recent...)
	h.mu.Unlock()
	return respond.JSON(http.StatusOK, out)
}

func (h *Sink) getFailureControl(*http.Request) respond.Reply {
	return respond.JSON(http.StatusOK, h.Failure())
}

// putFailureControl replaces the failure in force (fields left out are
// zero; {} turns it off) and answers with what is now in force.
func (h *Sink) putFailureControl(r *http.Request) respond.Reply {
	var f Failure
	if err := respond.DecodeBody(r, &f, true); err != nil {
		if errors.Is(err, respond.ErrNoBody) {
			return respond.BadBody(errors.New(`body must be a webhook failure, e.g. {"status":503,"count":2}; {} turns it off`))
		}
		return respond.BadBody(err)
	}
	if err := f.Validate(); err != nil {
		return respond.BadBody(err)
	}
	h.SetFailure(f)
	return respond.JSON(http.StatusOK, h.Failure())
}
