package domain

import (
	"context"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
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

// UsageToday is an extension's usage so far on the UTC day of now, from its
// ledger in c; none yet is zero. The gateway's GET and the dashboard's
// extension page both answer it, so a customer and Fly see one figure.
func UsageToday(ctx context.Context, c client.Reader, ext *jetwayv1.Extension, now time.Time) (billing.DayEntry, error) {
	ledger := &jetwayv1.UsageLedger{}
	key := client.ObjectKey{Namespace: ext.Namespace, Name: UsageLedgerName(ext.Spec.ID)}
	books := billing.Books{}
	switch err := c.Get(ctx, key, ledger); {
	case err == nil:
		books.Ledgers = []*jetwayv1.UsageLedger{ledger}
	case !apierrors.IsNotFound(err):
		return billing.DayEntry{}, fmt.Errorf("read usage ledger %s: %w", key.Name, err)
	}
	return books.Day(billing.DateOf(now)), nil
}
