package domain

import (
	"context"
	"fmt"

	"sigs.k8s.io/controller-runtime/pkg/client"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
	"github.com/jetway-dev/jetway/internal/billing"
)

// BooksOf reads an organization's billing objects (its UsageLedgers,
// wherever its extensions live, and its published BillingDays, in its
// namespace) through c, which the gateway and
// the dashboard give as the manager's cache. The objects are the cache's
// own, not copies (a billing GET of a large organization would spend most
// of its time copying): the caller must not modify them.
func BooksOf(ctx context.Context, c client.Reader, org *jetwayv1.Organization) (billing.Books, error) {
	ns := Namespace(org.Spec.ID)
	books := billing.Books{Published: map[string]*jetwayv1.BillingDay{}}
	if org.Status.Usage != nil {
		books.ClosedThrough = org.Status.Usage.ClosedThrough
	}
	var ledgers jetwayv1.UsageLedgerList
	if err := c.List(ctx, &ledgers, client.MatchingFields{IndexLedgerOrganization: org.Spec.ID}, client.UnsafeDisableDeepCopy); err != nil {
		return books, fmt.Errorf("list usage ledgers of %s: %w", ns, err)
	}
	for i := range ledgers.Items {
		books.Ledgers = append(books.Ledgers, &ledgers.Items[i])
	}
	var days jetwayv1.BillingDayList
	if err := c.List(ctx, &days, client.InNamespace(ns), client.UnsafeDisableDeepCopy); err != nil {
		return books, fmt.Errorf("list billing days of %s: %w", ns, err)
	}
	for i := range days.Items {
		books.Published[days.Items[i].Spec.Date] = &days.Items[i]
	}
	return books, nil
}
