// Package flysign is the harness's own implementation of Fly's extension
// request signing: what Fly's side computes when it signs a provisioning
// request (flyside), checks when a provider posts a webhook (flysim/hooks),
// and what flysim signs machine events with (flysim/events).
//
// It is written from the protocol text, not borrowed from the product's
// internal/signing, so that a mistake in the product's canonical message
// shows up as a failed test instead of being agreed with. Sources:
//
//   - ../shared/spec/fly-extensions-provisioning-api.txt lines 40–50:
//     "we sign all requests with a shared secret and a SHA256 HMAC";
//     X-Signature holds "the HMAC of the request contents: the query string
//     for GET and DELETE requests, and the request body for POST and PATCH
//     requests"; the added parameters are timestamp ("A UNIX epoch timestamp
//     value"), nonce and url ("The full request target URL"), and "We
//     recommend at least verifying that the signed URL matches the request
//     URL". Lines 60–76 show them as fields of the JSON body of a POST.
//   - the same file, line 257: webhooks "should be signed the same way as we
//     sign provisioning requests but with a different shared secret"; line
//     264 shows the webhook's timestamp as a JSON string.
//   - what Fly leaves open (research/fly-protocol.md §1.3: encoding, exact
//     bytes, replay window) is fixed by Jetway's contract, DESIGN.md
//     "The Fly-facing contract", lines 87–94: the MAC covers the exact raw
//     bytes (the raw query string without '?' for GET/DELETE), it is sent as
//     lowercase hex, and a timestamp more than 300 s off is refused.
//   - machine events: Fly documents no signing for them at all
//     (research/fly-protocol.md §2.8, "Signing of these: NOT FOUND"), so
//     EventMessage is Jetway's contract for binary-mode CloudEvents, as
//     flysim/events documents it.
//
// Verification here is deliberately narrower than the product's: one
// secret, lowercase hex only, integral timestamps only. The stand-in holds
// providers to the contract as written; the product may accept more.
package flysign
