package billing

import "time"

// Settings are the provider-wide billing choices. The manager builds one
// value from its flags and hands it to the meter (the Extension
// controller), the billing controller and the gateway.
type Settings struct {
	// Currency is the ISO 4217 code Jetway bills in. Usage on a plan
	// priced in another currency is metered at price 0.
	Currency string
	// CloseGrace is how long after a UTC day ends its bill waits for every
	// machine's state to be proven past midnight before it is published
	// anyway, with the unproven time unbilled.
	CloseGrace time.Duration
	// Clock is what looks, days and the billing API are timed by; nil is
	// the wall clock. Tests run billing on a fast clock shared with the
	// Fly stand-in.
	Clock func() time.Time
}

// Now is the billing clock's time, in UTC.
func (s Settings) Now() time.Time {
	if s.Clock == nil {
		return time.Now().UTC()
	}
	return s.Clock().UTC()
}
