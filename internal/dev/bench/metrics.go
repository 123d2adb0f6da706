package bench

import (
	"context"
	"fmt"
	"math"
	"net/http"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// scrape reads a manager's Prometheus endpoint.
func scrape(ctx context.Context, hc *http.Client, url string) (map[string]*dto.MetricFamily, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("scrape %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("scrape %s: HTTP %d", url, resp.StatusCode)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("scrape %s: %w", url, err)
	}
	return families, nil
}

// scrapeSum reads a manager's Prometheus endpoint and adds up the samples
// of the metric name (gauge, counter or untyped) whose labels include every
// pair in match; for an unlabelled gauge that is its value. A metric the
// endpoint does not expose is an error, not 0.
func scrapeSum(ctx context.Context, hc *http.Client, url, name string, match map[string]string) (float64, error) {
	families, err := scrape(ctx, hc, url)
	if err != nil {
		return 0, err
	}
	family, ok := families[name]
	if !ok {
		return 0, fmt.Errorf("%s has no %s", url, name)
	}
	sum := 0.0
	for _, m := range family.GetMetric() {
		if hasLabels(m, match) {
			sum += m.GetGauge().GetValue() + m.GetCounter().GetValue() + m.GetUntyped().GetValue()
		}
	}
	return sum, nil
}

// hasLabels reports whether m carries every label in match.
func hasLabels(m *dto.Metric, match map[string]string) bool {
	found := 0
	for _, l := range m.GetLabel() {
		if v, ok := match[l.GetName()]; ok && v == l.GetValue() {
			found++
		}
	}
	return found == len(match)
}

// histogram is a Prometheus histogram's samples added up over label sets.
type histogram struct {
	count uint64
	sum   float64
	// buckets are (upper bound, cumulative count), in the order exposed.
	bounds []float64
	counts []uint64
}

// scrapeHistogram adds up the histogram name over the label sets that
// include every pair in match. A metric the endpoint does not expose is an
// error.
func scrapeHistogram(ctx context.Context, hc *http.Client, url, name string, match map[string]string) (histogram, error) {
	var h histogram
	families, err := scrape(ctx, hc, url)
	if err != nil {
		return h, err
	}
	family, ok := families[name]
	if !ok {
		return h, fmt.Errorf("%s has no %s", url, name)
	}
	for _, m := range family.GetMetric() {
		if !hasLabels(m, match) {
			continue
		}
		hm := m.GetHistogram()
		h.count += hm.GetSampleCount()
		h.sum += hm.GetSampleSum()
		for i, b := range hm.GetBucket() {
			if i == len(h.bounds) {
				h.bounds = append(h.bounds, b.GetUpperBound())
				h.counts = append(h.counts, 0)
			}
			h.counts[i] += b.GetCumulativeCount()
		}
	}
	return h, nil
}

// mean is the average sample, 0 without samples.
func (h histogram) mean() float64 {
	if h.count == 0 {
		return 0
	}
	return h.sum / float64(h.count)
}

// quantile is the upper bound of the first bucket holding the q-th
// sample: a bound on the quantile, never an underestimate (+Inf when it
// lies beyond the last bucket).
func (h histogram) quantile(q float64) float64 {
	rank := uint64(math.Ceil(q * float64(h.count)))
	for i, c := range h.counts {
		if c >= rank {
			return h.bounds[i]
		}
	}
	return math.Inf(1)
}
