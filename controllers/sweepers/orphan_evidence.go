package sweepers

import (
	"fmt"
	"time"

	"github.com/jetway-dev/jetway/internal/domain"
	"github.com/jetway-dev/jetway/internal/fly"
)

// Why the sweeper leaves an app it cannot prove is Jetway's. They label
// the jetway_orphans_unprovable metric and the Event, so keep them stable.
const (
	// unprovableForeignMachine: the app runs a machine that does not carry
	// the id of the extension whose derived app name this is.
	unprovableForeignMachine = "ForeignMachine"
	// unprovableNoEvidence: no machines, no tombstone or retention record
	// of an extension with this app name, and not Jetway's credential
	// secrets.
	unprovableNoEvidence = "NoEvidence"
)

// orphanEvidence is what Fly and the API server say about an app that no
// live Extension owns.
type orphanEvidence struct {
	// extensionID is the Fly id the app was made for, when its machines or
	// a tombstone say; empty when only its secrets prove it.
	extensionID string
	// organizationID is the Fly organization, when a tombstone says.
	organizationID string
	// unprovable is why the app is left alone; empty when it is proven
	// Jetway's.
	unprovable string
	detail     string
	// since is the latest durable moment the app was last touched: the
	// extension's deletion, or Fly's creation time of its newest machine or
	// secret. The grace period counts from it, so a restart does not start
	// it anew and a create that lands late pushes it back. Zero when
	// nothing durable is known.
	since time.Time
	// retainedUntil is when the final snapshots the app was kept for
	// expired; zero for an app no retention record held.
	retainedUntil time.Time
}

// judgeOrphan decides whether app, which no live Extension owns, is provably
// Jetway's. Machines decide first: every one must carry the id whose
// derived app name is this one, or the app is someone else's whatever else
// it holds. An app without machines is proven by the tombstone of an
// extension with this app name (Jetway made it; the deletion left it), by
// the retention record of one (its teardown kept the app for its final
// snapshots, after proving the app its own, and removed its secrets), or
// by the credential secrets the controller sets right after creating an
// app. A record's expiry counts as the app's last durable touch: the
// grace period starts when the snapshots are gone.
func judgeOrphan(prefix, app string, machines []*fly.Machine, tomb *domain.Tombstone, rec *domain.Retention, secrets []fly.Secret) orphanEvidence {
	var ev orphanEvidence
	if tomb != nil {
		ev.extensionID, ev.organizationID = tomb.ID, tomb.OrganizationID
		ev.since = tomb.DeletedAt
	}
	if rec != nil {
		ev.extensionID, ev.organizationID = rec.ID, rec.OrganizationID
		ev.retainedUntil = rec.Until()
		ev.since = latest(ev.since, ev.retainedUntil)
	}
	for _, m := range machines {
		id := fly.MetadataOf(m, fly.MetaExtension)
		switch {
		case id == "":
			ev.unprovable, ev.detail = unprovableForeignMachine, fmt.Sprintf("machine %s carries no %s metadata", m.ID, fly.MetaExtension)
			return ev
		case domain.AppName(prefix, id) != app:
			ev.unprovable, ev.detail = unprovableForeignMachine, fmt.Sprintf("machine %s carries extension id %q, whose app would be another", m.ID, id)
			return ev
		}
		ev.extensionID = id
		ev.since = latest(ev.since, parseFlyTime(m.CreatedAt))
	}
	for _, s := range secrets {
		ev.since = latest(ev.since, s.CreatedAt)
	}
	if len(machines) == 0 && tomb == nil && rec == nil && !fly.HasCredentialSecrets(secrets) {
		ev.unprovable = unprovableNoEvidence
		ev.detail = "no machines, no record of a deleted extension with this app name, and not Jetway's credential secrets"
	}
	return ev
}

// machineOrphanedSince is when a machine of a gone extension, found in a
// live extension's app, was last touched durably.
func machineOrphanedSince(m *fly.Machine, tomb *domain.Tombstone) time.Time {
	since := parseFlyTime(m.CreatedAt)
	if tomb != nil {
		since = latest(since, tomb.DeletedAt)
	}
	return since
}

// parseFlyTime reads Fly's RFC 3339 timestamps; zero when absent or odd.
func parseFlyTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}
	}
	return t
}

func latest(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
