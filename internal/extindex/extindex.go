// Package extindex holds the cache indexes on Extensions that more than one
// part of Jetway reads: the gateway, to refuse a name that is taken, and the
// Extension controller, to stall a second extension (say, from GitOps) that
// would publish a DNS name another already has. Registering an index twice
// fails, so the manager registers these once, here.
package extindex

import (
	"context"
	"fmt"

	"sigs.k8s.io/controller-runtime/pkg/client"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
	"github.com/jetway-dev/jetway/internal/naming"
)

// DNSLabel indexes Extensions by the DNS label their name becomes. That,
// not the name itself, is what must be unique: "My DB" and "my-db" are
// different names with one DNS name.
const DNSLabel = "jetway.dev/dns-label"

// Setup registers the indexes with the manager's field indexer. Call it
// once, before the manager starts.
func Setup(ctx context.Context, idx client.FieldIndexer) error {
	if err := idx.IndexField(ctx, &jetwayv1.Extension{}, DNSLabel, dnsLabelOf); err != nil {
		return fmt.Errorf("index extensions by dns label: %w", err)
	}
	return nil
}

func dnsLabelOf(o client.Object) []string {
	return []string{naming.DNSLabel(o.(*jetwayv1.Extension).Spec.Name)}
}

// ByDNSLabel lists the Extensions whose names become the same DNS label as
// name, from c (the manager's cache, where the index lives).
func ByDNSLabel(ctx context.Context, c client.Reader, name string) ([]jetwayv1.Extension, error) {
	var list jetwayv1.ExtensionList
	if err := c.List(ctx, &list, client.MatchingFields{DNSLabel: naming.DNSLabel(name)}); err != nil {
		return nil, fmt.Errorf("list extensions by dns label: %w", err)
	}
	return list.Items, nil
}
