package billing

import (
	"fmt"
	"time"
)

// DateLayout is how a UTC day is written: in the API, in BillingDay names
// and in a ledger's openFrom.
const DateLayout = "2006-01-02"

// Day is the length of a UTC day; billing ignores leap seconds, as Fly's
// millisecond timestamps do.
const Day = 24 * time.Hour

// DateOf is the UTC day t falls on.
func DateOf(t time.Time) string { return t.UTC().Format(DateLayout) }

// ParseDate reads a YYYY-MM-DD day and returns its first instant (UTC). It
// accepts nothing else: no time, no zone, no other layout.
func ParseDate(s string) (time.Time, error) {
	t, err := time.Parse(DateLayout, s)
	if err != nil || t.Format(DateLayout) != s {
		return time.Time{}, fmt.Errorf("%q is not a date of the form YYYY-MM-DD", s)
	}
	return t, nil
}

// StartOf is the first instant of the UTC day date; date must be valid.
func StartOf(date string) time.Time {
	t, err := ParseDate(date)
	if err != nil {
		panic(err)
	}
	return t
}

// NextDate is the day after date.
func NextDate(date string) string { return DateOf(StartOf(date).Add(Day)) }
