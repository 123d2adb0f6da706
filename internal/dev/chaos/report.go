package chaos

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// Report is what a chaos run did and found.
type Report struct {
	Seed       int64
	Extensions int
	// CPUBurners and ManagerGOMAXPROCS are the load conditions (see Config).
	CPUBurners        int
	ManagerGOMAXPROCS int
	// Dir holds the run's files (manager.log, etcd data), if kept.
	Dir string

	Provisioned, Updated, Deleted int
	// CrashPoints is how many times the manager was SIGKILLed.
	CrashPoints int
	// WedgedReplicas is how many running replicas were wedged.
	WedgedReplicas int
	// GatewayAnswers counts answers the gateway served the driver by HTTP
	// status; GatewayUnanswered the driver's calls that got none (manager
	// down or killed). Gateway5xx also counts the final checks' 5xx.
	GatewayAnswers    map[int]int
	GatewayUnanswered int
	Gateway5xx        int
	// FlyRequests is every Machines API request flysim saw; RateLimited
	// those it answered 429 (Fly's limits, which Jetway should respect).
	FlyRequests int
	RateLimited int
	// RateLimitedAfter are the 429s after faults went off, with the manager
	// up for good: a restarted manager's client-side limiter starts full
	// while Fly's buckets remember its predecessor, so restarts alone cause
	// some; these are the ones steady state causes.
	RateLimitedAfter int
	// Injected counts flysim's faults by kind.
	Injected map[string]int

	Chaos         time.Duration // from the first call to the last crash point and driver call
	ConvergeTime  time.Duration // from faults off to the first clean check
	Converged     bool
	Total         time.Duration
	ManagerStarts int
	// SweptApps and SweptMachines are what the orphan sweeper removed: each
	// is something a deletion or a crash left on Fly and only the backstop
	// cleaned up.
	SweptApps, SweptMachines int

	// Billing is what the billing invariants compared.
	Billing BillingFigures

	// Invariants holds every invariant's violations, empty when it held.
	Invariants map[string][]string
}

// Violations lists every violation, one line each, invariant first.
func (r *Report) Violations() []string {
	var out []string
	for _, inv := range r.invariantNames() {
		for _, v := range r.Invariants[inv] {
			out = append(out, inv+": "+v)
		}
	}
	return out
}

// invariantNames is the fixed order, plus any unexpected kind at the end.
func (r *Report) invariantNames() []string {
	names := slices.Clone(invariantOrder)
	for _, k := range sortedKeys(r.Invariants) {
		if !slices.Contains(names, k) {
			names = append(names, k)
		}
	}
	return names
}

// WriteTable prints the figures and the invariants, then the first
// violations of each invariant.
func (r *Report) WriteTable(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "FIGURE\tVALUE\n")
	row := func(name string, v any) { fmt.Fprintf(tw, "%s\t%v\n", name, v) }
	row("seed", r.Seed)
	row("load: CPU burners, manager GOMAXPROCS", fmt.Sprintf("%d, %s", r.CPUBurners, gomaxprocs(r.ManagerGOMAXPROCS)))
	row("extensions provisioned", r.Provisioned)
	row("extensions updated", r.Updated)
	row("extensions deleted", r.Deleted)
	row("crash points (SIGKILLs)", r.CrashPoints)
	row("manager starts", r.ManagerStarts)
	row("replica machines wedged", r.WedgedReplicas)
	row("orphans the sweeper removed (apps, machines)", fmt.Sprintf("%d, %d", r.SweptApps, r.SweptMachines))
	row("gateway answers to the driver, by status", formatCounts(r.GatewayAnswers))
	row("gateway calls unanswered (manager down)", r.GatewayUnanswered)
	row("gateway 5xx served (driver and checks)", r.Gateway5xx)
	row("Fly requests", r.FlyRequests)
	row("Fly 429s Jetway caused (after faults off)", fmt.Sprintf("%d (%d)", r.RateLimited, r.RateLimitedAfter))
	for _, kind := range sortedKeys(r.Injected) {
		row("faults injected: "+kind, r.Injected[kind])
	}
	b := r.Billing
	row("billing: machine-days compared", b.MachineDays)
	row("billing: billed vs flysim ran (max drift of one machine-day)", fmt.Sprintf("%s vs %s (%s)",
		b.Billed.Round(time.Millisecond), b.Ran.Round(time.Millisecond), b.MaxDrift.Round(time.Millisecond)))
	row("billing: unproven (rolled off), after last proof, never metered", fmt.Sprintf("%s, %s, %s",
		b.Unproven.Round(time.Millisecond), b.AfterLastProof.Round(time.Millisecond), b.NeverMetered.Round(time.Millisecond)))
	row("billing: days published by the crash loop's end, unchanged after", b.PublishedDays)
	v := b.Volumes
	row("volumes made on Fly (live at the end)", fmt.Sprintf("%d (%d)", v.Made, v.Live))
	row("billing: volume-days compared", v.Days)
	row("billing: volume time billed vs flysim existed (max drift of one volume-day)", fmt.Sprintf("%s vs %s (%s)",
		v.Billed.Round(time.Millisecond), v.Existed.Round(time.Millisecond), v.MaxDrift.Round(time.Millisecond)))
	row("billing: volume GB-hours billed vs existed", fmt.Sprintf("%.3f vs %.3f", v.BilledGBHours, v.ExistedGBHours))
	row("billing: volume time after last proof, never metered", fmt.Sprintf("%s, %s",
		v.AfterLastProof.Round(time.Millisecond), v.NeverMetered.Round(time.Millisecond)))
	row("chaos phase", r.Chaos.Round(100*time.Millisecond))
	converge := r.ConvergeTime.Round(100 * time.Millisecond).String()
	if !r.Converged {
		converge = "did not converge within " + converge
	}
	row("time to converge (faults off)", converge)
	row("total run time", r.Total.Round(time.Second))
	fmt.Fprintf(tw, "\t\nINVARIANT\tVIOLATIONS\n")
	for _, inv := range r.invariantNames() {
		row(inv, len(r.Invariants[inv]))
	}
	tw.Flush()
	for _, inv := range r.invariantNames() {
		vs := r.Invariants[inv]
		if len(vs) == 0 {
			continue
		}
		fmt.Fprintf(w, "\n%s (%d):\n", inv, len(vs))
		for i, v := range vs {
			if i == maxDetailsPerInv {
				fmt.Fprintf(w, "  … and %d more\n", len(vs)-i)
				break
			}
			fmt.Fprintf(w, "  - %s\n", v)
		}
	}
	if r.Dir != "" {
		fmt.Fprintf(w, "\nrun files (manager.log, kubeconfig, etcd data): %s\n", r.Dir)
	}
}

// Table is WriteTable into a string.
func (r *Report) Table() string {
	var b strings.Builder
	r.WriteTable(&b)
	return b.String()
}

func gomaxprocs(n int) string {
	if n <= 0 {
		return "default"
	}
	return fmt.Sprint(n)
}

func formatCounts(m map[int]int) string {
	keys := slices.Sorted(maps.Keys(m))
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%d=%d", k, m[k]))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, " ")
}
