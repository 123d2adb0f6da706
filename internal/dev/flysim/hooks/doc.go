// Package hooks is a stand-in for Fly.io's incoming extension webhooks: the
// endpoint a provider POSTs to when its resources change, so that a
// provider's notifier can be tested end to end.
//
// Source: "Incoming Webhooks" in Fly's extensions docs,
// ../shared/spec/fly-extensions-provisioning-api.txt lines 239–294, as
// summarised in ../shared/research/fly-protocol.md §2.7. Each provider
// has its own URL, https://api.fly.io/api/hooks/extensions/{provider}
// (lines 249–251), which "will accept POST requests of the application/json
// type" (line 253); requests "should be signed the same way as we sign
// provisioning requests but with a different shared secret" (line 257);
// the body carries a UNIX timestamp, an action (resource.created,
// resource.updated or resource.deleted, lines 273–277) and the resource,
// with "the same parameters provided by GET endpoints" (line 294).
//
// Fly's docs fix only that outline (its answer codes and retry policy:
// NOT FOUND, fly-protocol.md §2.7), so the sink holds the provider to
// Jetway's contract, DESIGN.md lines 101–102, and errs on the strict side, as
// the rest of flysim does:
//
//	POST {base}/api/hooks/extensions/{provider}
//	Content-Type: application/json
//	X-Signature: <lowercase hex HMAC-SHA256(webhook secret, raw body)>
//
//	{"timestamp":"<unix seconds, a JSON string>","nonce":"<random>",
//	 "url":"<the URL posted to>","delivery_id":"<same on every retry>",
//	 "action":"resource.created|resource.updated|resource.deleted",
//	 "resource":{"id":"...", ...the provider's GET shape}}
//
// Signatures are checked with internal/dev/flysign, the harness's own
// implementation of the scheme, never with the product's. Every retry is
// signed afresh (new nonce and timestamp) but keeps its delivery_id, which
// is how the sink marks a delivery a duplicate. Fly authenticates these
// requests by their signature, not by the Machines API token.
package hooks
