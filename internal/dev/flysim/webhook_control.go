package flysim

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// The webhook sink's control endpoints, behind the bearer token like the
// rest of /flysim/v1/:
//
//	GET /flysim/v1/webhooks         {"deliveries":[...], "accepted":n, "rejected":n,
//	                                 "failed_on_purpose":n, "recent_rejections":[...]}
//	GET /flysim/v1/webhook-failure  the failure in force
//	PUT /flysim/v1/webhook-failure  {"status":503,"count":2,"until":"<RFC3339>","retry_after":"2s"}

type webhookFailureJSON struct {
	Status     int    `json:"status"`
	Count      int    `json:"count"`
	Until      string `json:"until"`       // RFC3339; "" for none
	RetryAfter string `json:"retry_after"` // Go duration
}

// MarshalJSON implements json.Marshaler: until as RFC3339 ("" when unset),
// retry_after as a Go duration string.
func (f WebhookFailure) MarshalJSON() ([]byte, error) {
	out := webhookFailureJSON{Status: f.Status, Count: f.Count, RetryAfter: f.RetryAfter.String()}
	if !f.Until.IsZero() {
		out.Until = f.Until.UTC().Format(time.RFC3339Nano)
	}
	return json.Marshal(out)
}

// UnmarshalJSON implements json.Unmarshaler. Missing fields are zero;
// unknown fields are an error, as for Faults.
func (f *WebhookFailure) UnmarshalJSON(b []byte) error {
	var in webhookFailureJSON
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return err
	}
	out := WebhookFailure{Status: in.Status, Count: in.Count}
	if in.Until != "" {
		t, err := time.Parse(time.RFC3339, in.Until)
		if err != nil {
			return fmt.Errorf("until: %w", err)
		}
		out.Until = t
	}
	if in.RetryAfter != "" {
		d, err := time.ParseDuration(in.RetryAfter)
		if err != nil {
			return fmt.Errorf("retry_after: %w", err)
		}
		out.RetryAfter = d
	}
	*f = out
	return nil
}

// webhooksJSON is the body of GET /flysim/v1/webhooks.
type webhooksJSON struct {
	Deliveries       []WebhookDelivery  `json:"deliveries"`
	Accepted         int                `json:"accepted"`
	Rejected         int                `json:"rejected"`
	FailedOnPurpose  int                `json:"failed_on_purpose"`
	RecentRejections []webhookRejection `json:"recent_rejections"` // the last 20, oldest first
}

func (s *Server) getWebhooksControl(*http.Request) reply {
	out := webhooksJSON{Deliveries: s.WebhookDeliveries()}
	out.Accepted, out.Rejected, out.FailedOnPurpose = s.WebhookStats()
	h := s.hooks
	h.mu.Lock()
	out.RecentRejections = append([]webhookRejection{}, h.recent...)
	h.mu.Unlock()
	return jsonReply(http.StatusOK, out)
}

func (s *Server) getWebhookFailureControl(*http.Request) reply {
	return jsonReply(http.StatusOK, s.WebhookFailure())
}

// putWebhookFailureControl replaces the webhook failure in force (fields
// left out are zero; {} turns it off) and answers with what is now in force.
func (s *Server) putWebhookFailureControl(r *http.Request) reply {
	var f WebhookFailure
	if err := decodeBody(r, &f, true); err != nil {
		if errors.Is(err, errNoBody) {
			return badBody(errors.New(`body must be a webhook failure, e.g. {"status":503,"count":2}; {} turns it off`))
		}
		return badBody(err)
	}
	if err := f.Validate(); err != nil {
		return badBody(err)
	}
	s.SetWebhookFailure(f)
	return jsonReply(http.StatusOK, s.WebhookFailure())
}
