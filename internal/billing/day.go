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

// itemKey is what makes two intervals the same item. sizeGB is a volume
// item's size, 0 for a machine item.
type itemKey struct {
	extensionID, extensionName, meter, size, region string
	sizeGB                                          int32
	price                                           int64
}

// Bill sums what the ledgers prove about date. Closing is for the bill
// that will be published: the time a running machine or a live volume was
// not proven through the day's end counts as unproven then, not merely not
// yet seen.
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
				k := itemKey{l.Spec.ExtensionID, l.Spec.ExtensionName, jetwayv1.MeterMachine, seg.Size, mu.Region, 0, seg.UnitPriceMicrosPerHour}
				sums[k] += d
			}
			for _, g := range mu.Gaps {
				unproven += max(0, Overlap(g.From.Time, g.To.Time, start, end))
			}
			if closing && running(mu) && mu.GoneAt == nil {
				unproven += max(0, Overlap(provenThrough(mu), end, start, end))
			}
		}
		unproven += billVolumes(sums, l, start, end, closing)
	}
	bill := DayBill{Date: date, UnprovenSeconds: Seconds(unproven), Items: []jetwayv1.BillingItem{}}
	for k, d := range sums {
		secs := Seconds(d)
		if secs == 0 {
			continue
		}
		item := jetwayv1.BillingItem{
			ExtensionID: k.extensionID, ExtensionName: k.extensionName,
			Meter: k.meter, Size: k.size, Region: k.region,
			QuantitySeconds: secs, UnitPriceMicrosPerHour: k.price,
			AmountMicros: Amount(secs, k.price),
		}
		if k.meter == jetwayv1.MeterVolume {
			// Rounded to whole seconds first, then times the size: one
			// rounding rule for both meters, and gb-seconds = seconds × GB
			// exactly on every item.
			item.QuantityGBSeconds = secs * int64(k.sizeGB)
			item.AmountMicros = Amount(item.QuantityGBSeconds, k.price)
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

// billVolumes adds the ledger's volume time on [start, end) to sums and
// returns the time not proven by the day's end, when closing.
func billVolumes(sums map[itemKey]time.Duration, l *jetwayv1.UsageLedger, start, end time.Time, closing bool) time.Duration {
	var unproven time.Duration
	for i := range l.Spec.Volumes {
		vu := &l.Spec.Volumes[i]
		for _, seg := range vu.Segments {
			d := Overlap(seg.From.Time, seg.To.Time, start, end)
			if d <= 0 {
				continue
			}
			k := itemKey{l.Spec.ExtensionID, l.Spec.ExtensionName, jetwayv1.MeterVolume, VolumeSize(seg.SizeGB), vu.Region,
				seg.SizeGB, seg.UnitPriceMicrosPerGBHour}
			sums[k] += d
		}
		if closing && vu.GoneAt == nil {
			unproven += max(0, Overlap(maxTime(volumeProvenThrough(vu), vu.CreatedAt.Time), end, start, end))
		}
	}
	return unproven
}
