// The extension index: the cache indexes on Extensions that Jetway reads by.
// The gateway finds an extension by Fly id, by machine or by app (machine
// events name those), and refuses a name that is taken; the Extension
// controller stalls a second extension (say, from GitOps) that would publish
// a DNS name another already has. Registering an index twice fails, so the
// manager registers them all once, here.

package domain

import (
	"context"
	"fmt"

	"sigs.k8s.io/controller-runtime/pkg/client"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
)

// The indexed fields.
const (
	// IndexFlyID is spec.id, the id Fly gave the extension.
	IndexFlyID = "spec.id"
	// IndexMachineID is every id in status.machines.
	IndexMachineID = "status.machines.id"
	// IndexAppName is status.appName.
	IndexAppName = "status.appName"
	// DNSLabelIndex indexes Extensions by the DNS label their name becomes.
	// That, not the name itself, is what must be unique: "My DB" and
	// "my-db" are different names with one DNS name.
	DNSLabelIndex = "jetway.dev/dns-label"
	// IndexOrganizationID is spec.organization.id: an organization's
	// extensions, wherever they live (GitOps may put them in any
	// namespace).
	IndexOrganizationID = "spec.organization.id"
	// IndexLedgerOrganization is a UsageLedger's spec.organizationID.
	IndexLedgerOrganization = "spec.organizationID"
)

// ExtensionIndex is one field index on Extensions.
type ExtensionIndex struct {
	Field   string
	Extract client.IndexerFunc
}

// ExtensionIndexes are every index on Extensions, for SetupIndexes and for
// tests that build a fake client with the same indexes.
var ExtensionIndexes = []ExtensionIndex{
	{IndexFlyID, func(o client.Object) []string { return []string{o.(*jetwayv1.Extension).Spec.ID} }},
	{IndexMachineID, func(o client.Object) []string {
		var ids []string
		for _, m := range o.(*jetwayv1.Extension).Status.Machines {
			ids = append(ids, m.ID)
		}
		return ids
	}},
	{IndexAppName, func(o client.Object) []string {
		if app := o.(*jetwayv1.Extension).Status.AppName; app != "" {
			return []string{app}
		}
		return nil
	}},
	{DNSLabelIndex, func(o client.Object) []string { return []string{DNSLabel(o.(*jetwayv1.Extension).Spec.Name)} }},
	{IndexOrganizationID, func(o client.Object) []string { return []string{o.(*jetwayv1.Extension).Spec.Organization.ID} }},
}

// SetupIndexes registers the indexes with the manager's field indexer. Call it
// once, before the manager starts.
func SetupIndexes(ctx context.Context, idx client.FieldIndexer) error {
	for _, ix := range ExtensionIndexes {
		if err := idx.IndexField(ctx, &jetwayv1.Extension{}, ix.Field, ix.Extract); err != nil {
			return fmt.Errorf("index extensions by %s: %w", ix.Field, err)
		}
	}
	if err := idx.IndexField(ctx, &jetwayv1.UsageLedger{}, IndexLedgerOrganization, func(o client.Object) []string {
		return []string{o.(*jetwayv1.UsageLedger).Spec.OrganizationID}
	}); err != nil {
		return fmt.Errorf("index usage ledgers by organization: %w", err)
	}
	return nil
}

// ExtensionsByDNSLabel lists the Extensions whose names become the same DNS
// label as name, from c (the manager's cache, where the index lives).
func ExtensionsByDNSLabel(ctx context.Context, c client.Reader, name string) ([]jetwayv1.Extension, error) {
	var list jetwayv1.ExtensionList
	if err := c.List(ctx, &list, client.MatchingFields{DNSLabelIndex: DNSLabel(name)}); err != nil {
		return nil, fmt.Errorf("list extensions by dns label: %w", err)
	}
	return list.Items, nil
}

// FindExtensionByID finds the Extension with Fly id id, wherever it lives
// (GitOps may put one in any namespace); nil, nil when there is none. The
// cache answers first, by IndexFlyID; on a miss the API server is asked by
// label, so a POST followed at once by a GET is never told 404 by a cache
// that has not caught up.
func FindExtensionByID(ctx context.Context, cached, live client.Reader, id string) (*jetwayv1.Extension, error) {
	if ext, err := CachedExtensionByID(ctx, cached, id); ext != nil || err != nil {
		return ext, err
	}
	return LiveExtensionByID(ctx, live, id)
}

// LiveExtensionByID finds the Extension with Fly id id in the API server,
// by its id label, past any cache.
func LiveExtensionByID(ctx context.Context, live client.Reader, id string) (*jetwayv1.Extension, error) {
	var list jetwayv1.ExtensionList
	if err := live.List(ctx, &list, client.MatchingLabels{jetwayv1.LabelFlyIDHash: Hash(id)}); err != nil {
		return nil, fmt.Errorf("list extensions by id label: %w", err)
	}
	for i := range list.Items {
		if list.Items[i].Spec.ID == id {
			return &list.Items[i], nil
		}
	}
	return nil, nil
}

// CachedExtensionByID finds the Extension with Fly id id in the cache only;
// nil, nil when the cache has none (which may be a cache not caught up).
func CachedExtensionByID(ctx context.Context, cached client.Reader, id string) (*jetwayv1.Extension, error) {
	var list jetwayv1.ExtensionList
	if err := cached.List(ctx, &list, client.MatchingFields{IndexFlyID: id}); err != nil {
		return nil, fmt.Errorf("list extensions by id: %w", err)
	}
	if len(list.Items) > 0 {
		return &list.Items[0], nil
	}
	return nil, nil
}
