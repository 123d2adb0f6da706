package billing

import (
	"sort"
	"time"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
)

// DayBill is one organization's usage on one UTC day.
type DayBill struct {
	Date            string
	Items           []jetwayv1.BillingItem
	TotalMicros     int64
	UnprovenSeconds int64
}

// itemKey is what makes two intervals the same item.
type itemKey struct {
	extensionID, extensionName, size, region string
	price                                    int64
}

// Bill sums what the ledgers prove about date. Closing is for the bill
// that will be published: the time a running machine was not proven
// through the day's end counts as unproven then, not merely not yet seen.
func Bill(date string, ledgers []*jetwayv1.UsageLedger, closing bool) DayBill {
	start := StartOf(date)
	end := start.Add(Day)
	sums := map[itemKey]time.Duration{}
	var unproven time.Duration
	for _, l := range ledgers {
		for i := range l.Spec.Machines {
			mu := &l.Spec.Machines[i]
			for _, seg := range mu.Segments {
				d := Overlap(seg.From.Time, seg.To.Time, start, end)
				if d <= 0 {
					continue
				}
				k := itemKey{l.Spec.ExtensionID, l.Spec.ExtensionName, seg.Size, mu.Region, seg.UnitPriceMicrosPerHour}
				sums[k] += d
			}
			for _, g := range mu.Gaps {
				unproven += max(0, Overlap(g.From.Time, g.To.Time, start, end))
			}
			if closing && running(mu) && mu.GoneAt == nil {
				unproven += max(0, Overlap(provenThrough(mu), end, start, end))
			}
		}
	}
	bill := DayBill{Date: date, UnprovenSeconds: Seconds(unproven), Items: []jetwayv1.BillingItem{}}
	for k, d := range sums {
		secs := Seconds(d)
		if secs == 0 {
			continue
		}
		item := jetwayv1.BillingItem{
			ExtensionID: k.extensionID, ExtensionName: k.extensionName,
			Meter: jetwayv1.MeterMachine, Size: k.size, Region: k.region,
			QuantitySeconds: secs, UnitPriceMicrosPerHour: k.price,
			AmountMicros: Amount(secs, k.price),
		}
		bill.Items = append(bill.Items, item)
		bill.TotalMicros += item.AmountMicros
	}
	SortItems(bill.Items)
	return bill
}

// SortItems puts items in the stable order the API answers them in.
func SortItems(items []jetwayv1.BillingItem) {
	sort.Slice(items, func(i, j int) bool {
		a, b := items[i], items[j]
		switch {
		case a.ExtensionName != b.ExtensionName:
			return a.ExtensionName < b.ExtensionName
		case a.ExtensionID != b.ExtensionID:
			return a.ExtensionID < b.ExtensionID
		case a.Meter != b.Meter:
			return a.Meter < b.Meter
		case a.Size != b.Size:
			return a.Size < b.Size
		case a.Region != b.Region:
			return a.Region < b.Region
		default:
			return a.UnitPriceMicrosPerHour < b.UnitPriceMicrosPerHour
		}
	})
}

// Overlap is how much of [from, to) lies within [start, end).
func Overlap(from, to, start, end time.Time) time.Duration {
	if from.Before(start) {
		from = start
	}
	if to.After(end) {
		to = end
	}
	if !to.After(from) {
		return 0
	}
	return to.Sub(from)
}
