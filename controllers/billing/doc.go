// Package billing is the billing controller: for each Organization it
// publishes every UTC day that has ended as an immutable BillingDay, once
// the meter has proven every machine's state past that day's midnight (or
// the close grace has run out), drops the published days from the
// organization's UsageLedgers, removes ledgers of deleted extensions whose
// last day is published, and keeps the Organization's usage summary
// (status.usage: today and yesterday) current. The meter itself runs in
// the Extension controller; the arithmetic is internal/billing's.
package billing
