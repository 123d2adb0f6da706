// Package signing verifies the requests Fly.io sends to the provider gateway
// and signs the ones Jetway sends back.
//
// Fly's documentation fixes only the outline of the scheme: an X-Signature
// header holding a SHA256 HMAC with a shared secret over "the query string
// for GET and DELETE requests, and the request body for POST and PATCH
// requests", plus timestamp, nonce and url parameters. It leaves the encoding
// and the exact bytes open, so this package implements Jetway's contract
// (see DESIGN.md, "The Fly-facing contract"):
//
//   - the MAC covers the exact raw bytes received: the body for POST/PATCH,
//     the raw query string without the leading '?' for GET/DELETE;
//   - Jetway signs as lowercase hex and accepts hex in any case or base64
//     (standard or URL alphabet, padded or not), optionally after "sha256=";
//   - timestamp, nonce and url are JSON body fields for POST/PATCH and query
//     parameters for GET/DELETE, and all three are required;
//   - several secrets may be configured at once so they can be rotated.
package signing
