package billing

import (
	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
)

// Statement is the billing API's answer: an organization's days.
type Statement struct {
	OrganizationID string     `json:"organization_id"`
	Currency       string     `json:"currency"`
	Days           []DayEntry `json:"days"`
}

// DayEntry is one day of a statement. A final day's JSON never changes.
type DayEntry struct {
	Date        string `json:"date"`
	Final       bool   `json:"final"`
	TotalMicros int64  `json:"total_micros"`
	// UnprovenSeconds is machine and volume time Fly's history could not
	// prove, and so was not billed; absent when there is none.
	UnprovenSeconds int64       `json:"unproven_seconds,omitempty"`
	Items           []ItemEntry `json:"items"`
}

// ItemEntry is one charge. A machine item charges quantity_seconds of
// running at the hour's price; a volume item quantity_gb_seconds (its
// quantity_seconds × its size in GB) at the GB-hour's price. Machine items
// have no quantity_gb_seconds, so their JSON is what it was before volumes.
type ItemEntry struct {
	ExtensionID            string `json:"extension_id"`
	ExtensionName          string `json:"extension_name"`
	Meter                  string `json:"meter"`
	Size                   string `json:"size"`
	Region                 string `json:"region"`
	QuantitySeconds        int64  `json:"quantity_seconds"`
	QuantityGBSeconds      int64  `json:"quantity_gb_seconds,omitempty"`
	UnitPriceMicrosPerHour int64  `json:"unit_price_micros_per_hour"`
	AmountMicros           int64  `json:"amount_micros"`
}

// Books are what a statement is made from: an organization's ledgers and
// published days, and how far its days are closed.
type Books struct {
	Ledgers []*jetwayv1.UsageLedger
	// Published are the organization's BillingDays by date.
	Published map[string]*jetwayv1.BillingDay
	// ClosedThrough is the last day through which every day is closed
	// (Organization status.usage.closedThrough); "" closes none.
	ClosedThrough string
}

// Day answers one date: a published day as published, a closed day with
// nothing published as empty and final, any other from the ledgers as
// they stand, not final.
func (b Books) Day(date string) DayEntry {
	if bd := b.Published[date]; bd != nil {
		return DayEntry{Date: date, Final: true, TotalMicros: bd.Spec.TotalMicros,
			UnprovenSeconds: bd.Spec.UnprovenSeconds, Items: itemEntries(bd.Spec.Items)}
	}
	if b.ClosedThrough != "" && date <= b.ClosedThrough {
		return DayEntry{Date: date, Final: true, Items: []ItemEntry{}}
	}
	bill := Bill(date, b.Covering(date), false)
	return DayEntry{Date: date, TotalMicros: bill.TotalMicros, UnprovenSeconds: bill.UnprovenSeconds,
		Items: itemEntries(bill.Items)}
}

// Range answers every date from from to to, both included.
func (b Books) Range(from, to string) []DayEntry {
	var out []DayEntry
	for d := from; d <= to; d = NextDate(d) {
		out = append(out, b.Day(d))
	}
	return out
}

// Covering are the ledgers that hold usage on date.
func (b Books) Covering(date string) []*jetwayv1.UsageLedger {
	var out []*jetwayv1.UsageLedger
	for _, l := range b.Ledgers {
		if l.Spec.OpenFrom <= date {
			out = append(out, l)
		}
	}
	return out
}

func itemEntries(items []jetwayv1.BillingItem) []ItemEntry {
	out := make([]ItemEntry, 0, len(items))
	for _, it := range items {
		out = append(out, ItemEntry{
			ExtensionID: it.ExtensionID, ExtensionName: it.ExtensionName, Meter: it.Meter,
			Size: it.Size, Region: it.Region, QuantitySeconds: it.QuantitySeconds, QuantityGBSeconds: it.QuantityGBSeconds,
			UnitPriceMicrosPerHour: it.UnitPriceMicrosPerHour, AmountMicros: it.AmountMicros,
		})
	}
	return out
}
