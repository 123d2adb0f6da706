package loadgen

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"
	"time"
)

// kind is a kind of request in the mix.
type kind string

const (
	kindCreate kind = "POST new"
	kindRepeat kind = "POST repeat"
	kindGet    kind = "GET"
	kindUpdate kind = "PATCH"
	kindDelete kind = "DELETE"
)

var kinds = []kind{kindCreate, kindRepeat, kindGet, kindUpdate, kindDelete}

// statusError is the status recorded for a request that got no HTTP answer.
const statusError = 0

// recorder collects every request's outcome.
type recorder struct {
	mu        sync.Mutex
	latencies map[kind][]time.Duration
	codes     map[kind]map[int]int
	samples   map[int]string // one answer body per unexpected status, for the report
}

func newRecorder() *recorder {
	r := &recorder{latencies: map[kind][]time.Duration{}, codes: map[kind]map[int]int{}, samples: map[int]string{}}
	for _, k := range kinds {
		r.codes[k] = map[int]int{}
	}
	return r
}

func (r *recorder) record(k kind, status int, took time.Duration, sample string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.latencies[k] = append(r.latencies[k], took)
	r.codes[k][status]++
	if (status >= 500 || status == statusError) && r.samples[status] == "" {
		r.samples[status] = sample
	}
}

// Report is what a load run measured and verified.
type Report struct {
	TargetRate   int
	Concurrency  int
	Sent         int
	Elapsed      time.Duration // from the first request sent to the last answer
	AchievedRate float64

	// Latency percentiles over all requests that got an answer.
	P50, P95, P99, Max time.Duration
	// ByKind is per kind: count, status counts, p50 and p95.
	ByKind []KindStats
	// Codes counts answers by HTTP status over all kinds; 0 is "no answer".
	Codes map[int]int
	// Samples holds one body per 5xx status (or the transport error).
	Samples map[int]string

	Accepted         int // POSTs answered 201 or 200 (distinct ids)
	DeletedOnPurpose int
	Verified         int // accepted ids answering GET 200
	// Lost lists accepted ids that do not answer GET 200, with what they answer.
	Lost []string
}

// KindStats are one kind's figures.
type KindStats struct {
	Kind          string
	Count         int
	Codes         map[int]int
	P50, P95, P99 time.Duration
}

// ServerErrors counts 5xx answers and requests that got no answer at all.
func (r *Report) ServerErrors() int {
	n := 0
	for code, c := range r.Codes {
		if code >= 500 || code == statusError {
			n += c
		}
	}
	return n
}

func (rec *recorder) fill(rep *Report) {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	rep.Codes = map[int]int{}
	rep.Samples = maps.Clone(rec.samples)
	var all []time.Duration
	for _, k := range kinds {
		ls := slices.Clone(rec.latencies[k])
		slices.Sort(ls)
		all = append(all, ls...)
		ks := KindStats{Kind: string(k), Count: len(ls), Codes: maps.Clone(rec.codes[k]), P50: pct(ls, 50), P95: pct(ls, 95), P99: pct(ls, 99)}
		rep.ByKind = append(rep.ByKind, ks)
		for code, n := range rec.codes[k] {
			rep.Codes[code] += n
		}
	}
	slices.Sort(all)
	rep.P50, rep.P95, rep.P99 = pct(all, 50), pct(all, 95), pct(all, 99)
	if len(all) > 0 {
		rep.Max = all[len(all)-1]
	}
}

// pct is the nearest-rank percentile of sorted durations.
func pct(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := (len(sorted)*p + 99) / 100
	return sorted[max(0, min(i-1, len(sorted)-1))]
}

// WriteTable prints the figures.
func (r *Report) WriteTable(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(name string, v any) { fmt.Fprintf(tw, "%s\t%v\n", name, v) }
	fmt.Fprintf(tw, "FIGURE\tVALUE\n")
	row("target rate", fmt.Sprintf("%d req/s, at most %d in flight", r.TargetRate, r.Concurrency))
	row("requests sent", r.Sent)
	row("achieved rate", fmt.Sprintf("%.1f req/s over %s", r.AchievedRate, r.Elapsed.Round(time.Millisecond)))
	row("latency p50 / p95 / p99 / max", fmt.Sprintf("%s / %s / %s / %s", ms(r.P50), ms(r.P95), ms(r.P99), ms(r.Max)))
	row("answers by status", formatCodes(r.Codes))
	row("5xx or no answer", r.ServerErrors())
	row("accepted POSTs (distinct ids)", r.Accepted)
	row("  deleted on purpose", r.DeletedOnPurpose)
	row("  verified GET 200", r.Verified)
	row("  lost", len(r.Lost))
	fmt.Fprintf(tw, "\t\nKIND\tCOUNT\tP50\tP95\tSTATUS\n")
	for _, k := range r.ByKind {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\n", k.Kind, k.Count, ms(k.P50), ms(k.P95), formatCodes(k.Codes))
	}
	tw.Flush()
	for _, code := range slices.Sorted(maps.Keys(r.Samples)) {
		fmt.Fprintf(w, "sample answer for status %d: %s\n", code, strings.TrimSpace(r.Samples[code]))
	}
	for i, l := range r.Lost {
		if i == 20 {
			fmt.Fprintf(w, "… and %d more lost\n", len(r.Lost)-i)
			break
		}
		fmt.Fprintf(w, "lost: %s\n", l)
	}
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond)) }

func formatCodes(m map[int]int) string {
	var parts []string
	for _, c := range slices.Sorted(maps.Keys(m)) {
		name := fmt.Sprint(c)
		if c == statusError {
			name = "no-answer"
		}
		parts = append(parts, fmt.Sprintf("%s=%d", name, m[c]))
	}
	return strings.Join(parts, " ")
}
