// Package billing turns Fly's record of each machine into money: the meter
// (meter.go) reads a machine's event history, as Fly lists it, into proven
// running intervals on an extension's UsageLedger; a day's bill (day.go)
// sums those intervals by UTC day, extension, size, region and price, in
// integers with one rounding rule (amount.go); prune.go drops a day from
// the ledgers once it is published as a BillingDay; statement.go answers
// the billing API from the ledgers and the published days, and
// statement_json.go writes that answer.
//
// Everything here is a pure function of what it is given, with no clock
// and no I/O but the writer a statement is written to, so that the same
// usage comes out whichever replica computes it and however often: the
// controllers decide when to call it, and the API server keeps what it
// returns. docs/billing.md is the contract.
package billing
