package fly

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

var (
	requestsTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "jetway_fly_requests_total",
		Help: "Requests to Fly's Machines API by action and HTTP status code (\"error\" when no answer came).",
	}, []string{"action", "code"})
	requestDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "jetway_fly_request_duration_seconds",
		Help:    "Latency of requests to Fly's Machines API by action.",
		Buckets: []float64{.01, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
	}, []string{"action"})
)

func init() {
	metrics.Registry.MustRegister(requestsTotal, requestDuration)
}

// instrumentedTransport rate-limits, counts and times every outbound
// request, at the HTTP layer, and points fly-go (which only reads its base URL from the
// environment) at the configured Machines API.
type instrumentedTransport struct {
	base   *url.URL
	next   http.RoundTripper
	limits *limits
}

func (t *instrumentedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	action := actionOf(req.Method, req.URL.Path)
	if t.limits != nil {
		if err := t.limits.wait(req.Context(), action, scopeOf(req.URL.Path)); err != nil {
			return nil, err
		}
	}
	if t.base != nil {
		req = req.Clone(req.Context())
		req.URL.Scheme = t.base.Scheme
		req.URL.Host = t.base.Host
		req.URL.Path = strings.TrimSuffix(t.base.Path, "/") + req.URL.Path
		req.URL.RawPath = ""
		req.Host = t.base.Host
	}
	start := time.Now()
	resp, err := t.next.RoundTrip(req)
	requestDuration.WithLabelValues(action).Observe(time.Since(start).Seconds())
	if err != nil {
		requestsTotal.WithLabelValues(action, "error").Inc()
		return resp, err
	}
	requestsTotal.WithLabelValues(action, strconv.Itoa(resp.StatusCode)).Inc()
	if resp.StatusCode == http.StatusTooManyRequests {
		if note, ok := req.Context().Value(retryAfterKey{}).(*retryAfterNote); ok {
			note.d = parseRetryAfter(resp.Header.Get("Retry-After"))
		}
	}
	return resp, nil
}

// retryAfterNote carries a 429's Retry-After from the transport back to the
// call that caused it; fly-go's error does not keep response headers.
type retryAfterNote struct{ d time.Duration }
type retryAfterKey struct{}

func withRetryAfterNote(ctx context.Context) (context.Context, *retryAfterNote) {
	n := &retryAfterNote{}
	return context.WithValue(ctx, retryAfterKey{}, n), n
}

var (
	machineIDSegment = regexp.MustCompile(`/machines/[^/]+`)
	appSegment       = regexp.MustCompile(`^/v1/apps/[^/]+`)
	ipSegment        = regexp.MustCompile(`/ip_assignments/[^/]+`)
	secretSegment    = regexp.MustCompile(`/secrets/[^/]+`)
	volumeSegment    = regexp.MustCompile(`/volumes/[^/]+`)
)

// actionOf names a request by its route, with the ids taken out, so metric
// label values stay few.
func actionOf(method, path string) string {
	p := appSegment.ReplaceAllString(path, "/v1/apps/:app")
	p = machineIDSegment.ReplaceAllString(p, "/machines/:id")
	p = ipSegment.ReplaceAllString(p, "/ip_assignments/:ip")
	p = secretSegment.ReplaceAllString(p, "/secrets/:name")
	p = volumeSegment.ReplaceAllString(p, "/volumes/:volume")
	return method + " " + p
}
