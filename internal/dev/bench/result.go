package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"text/tabwriter"
	"time"
)

// Result is one row of the table: one figure, with its floor.
type Result struct {
	ID     string `json:"id"`
	Figure string `json:"figure"`
	// Value and Floor are in Unit; Ratio is Value/Floor (0 when there is
	// no floor to divide by).
	Value float64 `json:"value"`
	Floor float64 `json:"floor"`
	Ratio float64 `json:"ratio"`
	Unit  string  `json:"unit"`
	// Goal says what the figure should be, in words; Met whether it is.
	Goal string `json:"goal"`
	Met  bool   `json:"met"`
	// Detail is more of what was measured (percentiles, counts), for people.
	Detail string `json:"detail,omitempty"`
	// Err is set when the figure could not be measured.
	Err string `json:"error,omitempty"`
}

// Results is a whole run.
type Results struct {
	Started  time.Time `json:"started"`
	Elapsed  string    `json:"elapsed"`
	CPUs     int       `json:"cpus"`
	Scale    float64   `json:"scale"`
	Figures  []Result  `json:"figures"`
	Machine  string    `json:"machine,omitempty"`
	Versions string    `json:"versions,omitempty"`
}

// ratio is v/floor, or 0 without a floor.
func ratio(v, floor float64) float64 {
	if floor <= 0 {
		return 0
	}
	return v / floor
}

// WriteTable prints the results as one table.
func (r *Results) WriteTable(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tFIGURE\tJETWAY\tFLOOR\tRATIO\tGOAL\tMET")
	for _, f := range r.Figures {
		if f.Err != "" {
			fmt.Fprintf(tw, "%s\t%s\t-\t-\t-\t%s\tnot measured: %s\n", f.ID, f.Figure, f.Goal, f.Err)
			continue
		}
		met := "no"
		if f.Met {
			met = "yes"
		}
		ratioText := "-"
		if f.Ratio > 0 {
			ratioText = fmt.Sprintf("%.2f×", f.Ratio)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", f.ID, f.Figure, format(f.Value, f.Unit), format(f.Floor, f.Unit), ratioText, f.Goal, met)
	}
	tw.Flush()
	for _, f := range r.Figures {
		if f.Detail != "" {
			fmt.Fprintf(w, "%s: %s\n", f.ID, f.Detail)
		}
	}
	fmt.Fprintf(w, "%d CPU(s), scale %g, %s in all\n", r.CPUs, r.Scale, r.Elapsed)
}

func format(v float64, unit string) string {
	switch unit {
	case "ms":
		return fmt.Sprintf("%.0f ms", v)
	case "s":
		return fmt.Sprintf("%.2f s", v)
	case "MiB":
		return fmt.Sprintf("%.1f MiB", v)
	case "KiB":
		return fmt.Sprintf("%.2f KiB", v)
	default:
		return fmt.Sprintf("%.2f %s", v, unit)
	}
}

// WriteJSON writes the results to path, creating its folder.
func (r *Results) WriteJSON(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}
