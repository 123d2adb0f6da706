package dashboard

import (
	"fmt"

	"github.com/jetway-dev/jetway/internal/billing"
)

// The chart's geometry, in its viewBox units. The browser scales the
// viewBox to the page's width, so these only fix the proportions.
const (
	chartPlotHeight = 120 // the tallest bar
	chartBarWidth   = 14
	chartBarGap     = 4
)

// dayFigure is one day's amount, as the usage tables show it.
type dayFigure struct {
	Date   string
	Micros int64
	Final  bool
}

// usageChart is a bar chart of daily amounts, laid out for the template:
// the template only copies these numbers into <rect> attributes, so the
// geometry is here, where a test can check it.
type usageChart struct {
	Width, Height int
	// From and To are the first and the last day charted.
	From, To string
	// Label is the chart's accessible name: what it covers and its peak.
	Label string
	Bars  []chartBar
}

// chartBar is one day's bar; Title is its exact figure, shown on hover and
// read out by screen readers that enter the chart.
type chartBar struct {
	Date                string
	X, Y, Width, Height int
	Title               string
}

// chartOf lays out one bar per day, oldest on the left, each as tall as its
// share of the largest day. A day that cost anything gets at least one unit
// of height, so a small charge next to a large one is not drawn as nothing;
// a day of 0 has no height. Heights are geometry, not money, so floating
// point is fine here; the figures in the titles are the exact micro-units.
func chartOf(days []dayFigure, currency string) usageChart {
	c := usageChart{Height: chartPlotHeight}
	if n := len(days); n > 0 {
		c.Width = n*(chartBarWidth+chartBarGap) - chartBarGap
	}
	var peak dayFigure
	for _, d := range days {
		if d.Micros > peak.Micros {
			peak = d
		}
	}
	for i, d := range days {
		h := 0
		if d.Micros > 0 {
			h = int(float64(d.Micros)/float64(peak.Micros)*chartPlotHeight + 0.5)
			h = max(h, 1)
		}
		c.Bars = append(c.Bars, chartBar{
			Date: d.Date, X: i * (chartBarWidth + chartBarGap), Y: chartPlotHeight - h,
			Width: chartBarWidth, Height: h, Title: d.Date + ": " + figure(d, currency),
		})
	}
	if len(days) > 0 {
		c.From, c.To = days[0].Date, days[len(days)-1].Date
	}
	switch {
	case len(days) == 0:
		c.Label = "No days to chart"
	case peak.Micros == 0:
		c.Label = fmt.Sprintf("Daily totals from %s to %s: nothing charged", c.From, c.To)
	default:
		c.Label = fmt.Sprintf("Daily totals from %s to %s; the highest is %s on %s",
			c.From, c.To, billing.FormatMicros(peak.Micros, currency), peak.Date)
	}
	return c
}

// figure is a day's amount for people, saying whether it can still grow.
func figure(d dayFigure, currency string) string {
	s := billing.FormatMicros(d.Micros, currency)
	if d.Final {
		return s + " (final)"
	}
	return s + " (so far)"
}
