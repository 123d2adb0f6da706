package gateway

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/jetway-dev/jetway/internal/signing"
)

var (
	signingRefusals = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "jetway_gateway_signing_refusals_total",
		Help: "Requests refused by the signature check, by reason (the error code answered: bad_signature, stale_timestamp, replayed_nonce, url_mismatch...).",
	}, []string{"reason"})
	signingWaived = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "jetway_gateway_signing_waived_total",
		Help: "Requests report-only mode let through that strict mode would have refused, by reason (url_mismatch, unsigned_params).",
	}, []string{"reason"})
	signingReportOnly = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "jetway_gateway_signing_report_only",
		Help: "1 while signing runs report-only (the url match and the parameters' place are reported, not enforced), else 0.",
	})
)

func init() { metrics.Registry.MustRegister(signingRefusals, signingWaived, signingReportOnly) }

// reportWaived is the Verifier's Report: what report-only let through is
// logged and counted, never silent.
func (s *Server) reportWaived(e *signing.Error) {
	signingWaived.WithLabelValues(e.Code).Inc()
	s.log.Info("Signing report-only: accepted a request strict mode refuses", "reason", e.Code, "detail", e.Message)
}

// watchReportOnly shows report-only mode in its metric while it lasts and
// says when it ends, which it does by itself.
func (s *Server) watchReportOnly(ctx context.Context) {
	v := s.cfg.Verifier
	now := time.Now()
	if !v.ReportOnly(now) {
		signingReportOnly.Set(0)
		return
	}
	signingReportOnly.Set(1)
	s.log.Info("Signing is in report-only mode: a url mismatch or parameters outside the signed bytes are logged and counted, not refused; signatures, timestamps and nonces are enforced",
		"until", v.ReportOnlyUntil.UTC().Format(time.RFC3339))
	t := time.NewTimer(v.ReportOnlyUntil.Sub(now))
	go func() {
		defer t.Stop()
		select {
		case <-ctx.Done():
		case <-t.C:
			signingReportOnly.Set(0)
			s.log.Info("Signing report-only mode ended: every check refuses again")
		}
	}()
}
