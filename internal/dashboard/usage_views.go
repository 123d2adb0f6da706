package dashboard

import (
	"fmt"
	"sort"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
	"github.com/jetway-dev/jetway/internal/billing"
)

// The usage pages show the billing API's day entries as they are: every
// amount on them is one the API answers (a day's total, an item's amount)
// or a sum of an extension's items, which add up exactly by billing's
// rounding rule. Nothing here prices time.

type usageView struct {
	OrgID, OrgURL string
	Currency      string
	Chart         usageChart
	Days          []dayRow // oldest first, today last, as the chart
	HasUnproven   bool
	Extensions    []extensionUsageRow
}

type dayRow struct {
	Date, Total string
	Micros      int64
	Final       bool
	// Unproven is machine time that could not be proven and so was not
	// billed; "" when there is none.
	Unproven string
}

type extensionUsageRow struct {
	ID, Name, URL, Total string
	Deleted              bool
}

type extensionUsageView struct {
	ID, Name      string
	OrgID         string
	UsageURL      string // the organization's usage page
	ExtensionURL  string // "" once the extension is deleted
	Total         string // over the days shown
	Chart         usageChart
	Days          []extensionDayRow
	ItemsInWindow int
}

type extensionDayRow struct {
	Date, Total string
	Final       bool
	Items       []itemRow
}

type itemRow struct {
	Meter, Size, Region string
	Quantity            string
	QuantitySeconds     int64
	UnitPrice, Amount   string
}

// todayView is the extension page's usage so far today.
type todayView struct {
	Date, Total string
	Items       []itemRow
	HistoryURL  string
}

func usagePage(h *Handler, s *Session, orgID string, days []billing.DayEntry, exts []jetwayv1.Extension) page {
	cur := h.cfg.Billing.Currency
	v := usageView{OrgID: orgID, OrgURL: h.pagePath(target{Kind: targetOrganization, ID: orgID}), Currency: cur}
	figures := make([]dayFigure, 0, len(days))
	for _, d := range days {
		f := dayFigure{Date: d.Date, Micros: d.TotalMicros, Final: d.Final}
		figures = append(figures, f)
		row := dayRow{Date: d.Date, Total: billing.FormatMicros(d.TotalMicros, cur), Micros: d.TotalMicros, Final: d.Final}
		if d.UnprovenSeconds > 0 {
			row.Unproven = formatSeconds(d.UnprovenSeconds)
			v.HasUnproven = true
		}
		v.Days = append(v.Days, row)
	}
	v.Chart = chartOf(figures, cur)
	v.Extensions = extensionsInUsage(h, orgID, days, exts)
	return page{Template: "usage", Title: "Usage", User: h.userOf(s, orgID), Data: v}
}

// extensionsInUsage are the organization's extensions, and those deleted
// that still have charges in days, each with its total over them.
func extensionsInUsage(h *Handler, orgID string, days []billing.DayEntry, exts []jetwayv1.Extension) []extensionUsageRow {
	type sum struct {
		name    string
		micros  int64
		deleted bool
	}
	byID := map[string]*sum{}
	for i := range exts {
		byID[exts[i].Spec.ID] = &sum{name: exts[i].Spec.Name}
	}
	for _, d := range days {
		for _, it := range d.Items {
			s := byID[it.ExtensionID]
			if s == nil {
				s = &sum{name: it.ExtensionName, deleted: true}
				byID[it.ExtensionID] = s
			}
			s.micros += it.AmountMicros
		}
	}
	rows := make([]extensionUsageRow, 0, len(byID))
	for id, s := range byID {
		rows = append(rows, extensionUsageRow{ID: id, Name: s.name, URL: h.usagePath(orgID, id),
			Total: billing.FormatMicros(s.micros, h.cfg.Billing.Currency), Deleted: s.deleted})
	}
	sort.Slice(rows, func(i, j int) bool {
		if rows[i].Name != rows[j].Name {
			return rows[i].Name < rows[j].Name
		}
		return rows[i].ID < rows[j].ID
	})
	return rows
}

// extensionUsagePage is one extension's items, day by day. ext is nil once
// the extension is deleted; name then comes from its items.
func extensionUsagePage(h *Handler, s *Session, orgID, extID, name string, ext *jetwayv1.Extension, days []billing.DayEntry) page {
	cur := h.cfg.Billing.Currency
	v := extensionUsageView{ID: extID, Name: name, OrgID: orgID, UsageURL: h.usagePath(orgID, "")}
	if ext != nil {
		v.ExtensionURL = h.pagePath(target{Kind: targetExtension, ID: extID})
	}
	figures := make([]dayFigure, 0, len(days))
	var total int64
	for _, d := range days {
		items, micros := itemsOf(extID, d.Items, cur)
		total += micros
		v.ItemsInWindow += len(items)
		figures = append(figures, dayFigure{Date: d.Date, Micros: micros, Final: d.Final})
		v.Days = append(v.Days, extensionDayRow{Date: d.Date, Total: billing.FormatMicros(micros, cur), Final: d.Final, Items: items})
	}
	v.Total = billing.FormatMicros(total, cur)
	v.Chart = chartOf(figures, cur)
	return page{Template: "extension-usage", Title: name + " usage", User: h.userOf(s, orgID), Data: v}
}

// itemsOf are extID's items among items, for people, and what they add up to.
func itemsOf(extID string, items []billing.ItemEntry, currency string) ([]itemRow, int64) {
	var rows []itemRow
	var sum int64
	for _, it := range items {
		if it.ExtensionID != extID {
			continue
		}
		sum += it.AmountMicros
		unit := " / hour"
		if it.Meter == jetwayv1.MeterVolume {
			unit = " / GB-hour" // a volume is priced per GB it holds
		}
		rows = append(rows, itemRow{
			Meter: it.Meter, Size: it.Size, Region: it.Region,
			Quantity: formatSeconds(it.QuantitySeconds), QuantitySeconds: it.QuantitySeconds,
			UnitPrice: billing.FormatMicros(it.UnitPriceMicrosPerHour, currency) + unit,
			Amount:    billing.FormatMicros(it.AmountMicros, currency),
		})
	}
	return rows, sum
}

// todayOf is the extension page's usage section.
func todayOf(h *Handler, ext *jetwayv1.Extension, day billing.DayEntry) *todayView {
	items, _ := itemsOf(ext.Spec.ID, day.Items, h.cfg.Billing.Currency)
	return &todayView{Date: day.Date, Total: billing.FormatMicros(day.TotalMicros, h.cfg.Billing.Currency), Items: items,
		HistoryURL: h.usagePath(ext.Spec.Organization.ID, ext.Spec.ID)}
}

// formatSeconds writes a quantity of machine time exactly, for people:
// "1 h 02 min 05 s", "3 min 00 s", "42 s".
func formatSeconds(secs int64) string {
	h, m, s := secs/3600, secs%3600/60, secs%60
	switch {
	case h > 0:
		return fmt.Sprintf("%d h %02d min %02d s", h, m, s)
	case m > 0:
		return fmt.Sprintf("%d min %02d s", m, s)
	default:
		return fmt.Sprintf("%d s", s)
	}
}
