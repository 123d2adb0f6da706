// Package conformance is Fly's side of the extension provisioning protocol
// as a test suite: any provider points it at its own base URL with its
// shared secret, and it reports, check by check, whether the provider keeps
// the contract. It is in the spirit of Heroku's kensa and the Open Service
// Broker checker; Fly offers nothing like it.
//
// Sources. What a check demands comes from Fly's page ("Provisioning Fly.io
// Extensions", kept in shared/spec/fly-extensions-provisioning-api.txt) and
// from what flyctl does with the answers (it polls GET until the status is
// ready or error). Where the page is silent, a check that sees something
// other than Jetway's choice (docs/fly-contract.md) reports "info", never a
// failure, since other providers may choose differently: a repeated DELETE
// answered 404, a name conflict answered with a new name, an authorize URL
// without organization_id.
//
// Independence. The suite signs and verifies with its own few lines of
// HMAC written from the page (sign.go), never with Jetway's
// internal/signing or the harness's flysign, so a mistake in either cannot
// hide from it (test/layout enforces this). It drives the provider only
// over HTTP.
//
// Each check uses fresh, unique ids and a fresh organization per run, and
// everything the suite made is deleted before it returns.
package conformance
