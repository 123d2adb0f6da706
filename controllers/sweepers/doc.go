// Package sweepers holds the periodic loops that clean up what no single
// Extension's reconcile can: the orphan sweeper, which removes Fly apps and
// machines no extension owns (see docs/orphans.md), the tombstone sweeper,
// which forgets deleted extensions after their TTL, and the nonce record
// sweeper, which deletes the gateway's replay records once their requests
// have expired. They run on the leader only, and write no status.
package sweepers

import "sigs.k8s.io/controller-runtime/pkg/client"

// The sweepers' field managers.
const (
	OrphanSweeperFieldOwner      = client.FieldOwner("jetway-orphan-sweeper")
	TombstoneSweeperFieldOwner   = client.FieldOwner("jetway-tombstone-sweeper")
	NonceRecordSweeperFieldOwner = client.FieldOwner("jetway-nonce-record-sweeper")
)
