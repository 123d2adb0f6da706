package dashboard

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestChartScalesBarsToTheLargestDay(t *testing.T) {
	days := []dayFigure{
		{Date: "2026-11-20", Micros: 0, Final: true},
		{Date: "2026-11-21", Micros: 45_600, Final: true},
		{Date: "2026-11-22", Micros: 22_800, Final: true},
		{Date: "2026-11-23", Micros: 10, Final: false}, // a sliver, not nothing
	}
	got := chartOf(days, "USD")
	want := usageChart{
		Width: 4*18 - 4, Height: 120, From: "2026-11-20", To: "2026-11-23",
		Label: "Daily totals from 2026-11-20 to 2026-11-23; the highest is 0.045600 USD on 2026-11-21",
		Bars: []chartBar{
			{Date: "2026-11-20", X: 0, Y: 120, Width: 14, Height: 0, Title: "2026-11-20: 0.000000 USD (final)"},
			{Date: "2026-11-21", X: 18, Y: 0, Width: 14, Height: 120, Title: "2026-11-21: 0.045600 USD (final)"},
			{Date: "2026-11-22", X: 36, Y: 60, Width: 14, Height: 60, Title: "2026-11-22: 0.022800 USD (final)"},
			{Date: "2026-11-23", X: 54, Y: 119, Width: 14, Height: 1, Title: "2026-11-23: 0.000010 USD (so far)"},
		},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("chart (-want +got):\n%s", diff)
	}
}

func TestChartOfNothingChargedHasFlatBars(t *testing.T) {
	days := make([]dayFigure, 31)
	for i := range days {
		days[i] = dayFigure{Date: "2026-11-01"}
	}
	got := chartOf(days, "EUR")
	if len(got.Bars) != 31 {
		t.Fatalf("%d bars for 31 days", len(got.Bars))
	}
	for _, b := range got.Bars {
		if b.Height != 0 || b.Y != chartPlotHeight {
			t.Fatalf("a day of 0 drew a bar of height %d at y %d", b.Height, b.Y)
		}
	}
	if got.Label != "Daily totals from 2026-11-01 to 2026-11-01: nothing charged" {
		t.Errorf("label = %q", got.Label)
	}
	if last := got.Bars[30]; last.X+last.Width != got.Width {
		t.Errorf("the last bar ends at %d, the chart at %d", last.X+last.Width, got.Width)
	}
}

func TestChartKeepsHugeAmountsInProportion(t *testing.T) {
	// Products of this size overflow int64; the chart must not.
	got := chartOf([]dayFigure{{Date: "a", Micros: 1 << 62}, {Date: "b", Micros: 1 << 61}}, "USD")
	if got.Bars[0].Height != 120 || got.Bars[1].Height != 60 {
		t.Errorf("heights %d, %d; want 120, 60", got.Bars[0].Height, got.Bars[1].Height)
	}
}
