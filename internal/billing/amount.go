package billing

import (
	"fmt"
	"math/bits"
	"time"
)

// The one rounding rule: an item's time is the sum of its intervals in
// Fly's milliseconds, rounded down to whole seconds; its amount is
// seconds × price per hour / 3600, rounded down to a whole micro-unit; a
// day's total is the sum of its items' amounts, so the items always add up
// to it exactly. Rounding down never bills more than the record proves.

// Seconds is d in whole seconds, rounded down.
func Seconds(d time.Duration) int64 { return int64(d / time.Second) }

// Amount is what seconds cost at pricePerHour micro-units, rounded down.
// The product is taken in 128 bits, so no price the API accepts can
// overflow it; a result beyond int64 saturates.
func Amount(seconds, pricePerHour int64) int64 {
	if seconds <= 0 || pricePerHour <= 0 {
		return 0
	}
	hi, lo := bits.Mul64(uint64(seconds), uint64(pricePerHour))
	if hi >= 3600 {
		return maxInt64
	}
	q, _ := bits.Div64(hi, lo, 3600)
	if q > maxInt64 {
		return maxInt64
	}
	return int64(q)
}

const maxInt64 = 1<<63 - 1

// FormatMicros writes an amount for people: "1.234567 USD".
func FormatMicros(micros int64, currency string) string {
	sign := ""
	if micros < 0 {
		sign, micros = "-", -micros
	}
	return fmt.Sprintf("%s%d.%06d %s", sign, micros/1_000_000, micros%1_000_000, currency)
}
