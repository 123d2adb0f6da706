// Package replay makes a captured Fly request worthless on every gateway
// replica, not only on the one that took it.
//
// Each replica keeps its own bbolt nonce store (internal/signing): fast,
// and enough while one process serves Fly. Behind a Service, a request
// accepted by replica A and replayed to replica B within the timestamp
// window passes B's store, and a replayed PATCH reverts a later change.
// So every accepted request that changes something also claims its nonce
// in the cluster, once, before the change is made: a Lease named after
// the nonce's hash in the manager's namespace, created with the API
// server's create-if-absent. The first replica to create it serves the
// request; every other, at the same moment or later, finds it and refuses
// the request as replayed. The Lease lives until the request's timestamp
// could no longer be accepted anywhere, then the sweeper deletes it.
//
// Why a record per request rather than one per extension: a replayed
// POST after its DELETE finished would find no extension left to hold its
// nonce and provision it again. docs/architecture.md ("Replay protection
// across replicas") has the whole reasoning and the cost.
package replay
