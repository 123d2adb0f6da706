package conformance

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// Outcome is what a check concluded.
type Outcome string

const (
	// Pass: the provider keeps this part of the contract.
	Pass Outcome = "PASS"
	// Fail: the provider breaks the page's contract; the run fails.
	Fail Outcome = "FAIL"
	// Skip: the check did not run (not configured, no such endpoint, or
	// it needs something an earlier check could not make).
	Skip Outcome = "SKIP"
	// Info: the page is silent and the provider chose differently from
	// Jetway; worth knowing, never a failure.
	Info Outcome = "INFO"
)

// Result is one row of the table.
type Result struct {
	ID      string
	Name    string
	Outcome Outcome
	Reason  string
}

func pass(format string, a ...any) Result {
	return Result{Outcome: Pass, Reason: fmt.Sprintf(format, a...)}
}
func fail(format string, a ...any) Result {
	return Result{Outcome: Fail, Reason: fmt.Sprintf(format, a...)}
}
func skip(format string, a ...any) Result {
	return Result{Outcome: Skip, Reason: fmt.Sprintf(format, a...)}
}
func info(format string, a ...any) Result {
	return Result{Outcome: Info, Reason: fmt.Sprintf(format, a...)}
}

// Report is a whole run.
type Report struct {
	Results []Result
}

// Failed reports whether any check failed.
func (r Report) Failed() bool {
	for _, res := range r.Results {
		if res.Outcome == Fail {
			return true
		}
	}
	return false
}

// Find is the result of the check with this id.
func (r Report) Find(id string) (Result, bool) {
	for _, res := range r.Results {
		if res.ID == id {
			return res, true
		}
	}
	return Result{}, false
}

// Print writes the table (ID, CHECK, RESULT, REASON) and a summary line.
func (r Report) Print(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tCHECK\tRESULT\tREASON")
	counts := map[Outcome]int{}
	for _, res := range r.Results {
		counts[res.Outcome]++
		reason := strings.ReplaceAll(res.Reason, "\n", " ")
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", res.ID, res.Name, res.Outcome, reason)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "\n%d checks: %d passed, %d failed, %d skipped, %d info\n",
		len(r.Results), counts[Pass], counts[Fail], counts[Skip], counts[Info])
	return err
}
