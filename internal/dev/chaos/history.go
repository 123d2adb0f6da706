package chaos

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
	"github.com/jetway-dev/jetway/internal/billing"
	"github.com/jetway-dev/jetway/internal/domain"
)

// The run starts with one day to close: an organization whose extension
// ran four hours yesterday and was deleted, its ledger as the meter left
// it. The billing controller publishes that day while the manager is being
// killed, and the check wants it published exactly once, exactly as the
// ledger says, and unchanged at the end. (A run's own usage is all today,
// so without it no day would close under chaos, short of midnight.)
const (
	historyOrg        = "chaos-history"
	historyExtension  = "chaos-history-ext"
	historySeconds    = 4 * 3600
	historyHourMicros = 3_600_000
)

func historyNamespace() string { return domain.Namespace(historyOrg) }

// historyDate is the day before now's, UTC.
func historyDate(now time.Time) string { return billing.DateOf(now.Add(-billing.Day)) }

// historyMicros is what the history day must total: four hours at the
// price, which is a whole number of micro-units a second.
const historyMicros = historySeconds * historyHourMicros / 3600

// seedHistory writes the organization, its namespace and the ledger, and
// returns the day to be closed.
func seedHistory(ctx context.Context, c client.Client, now time.Time) (string, error) {
	date := historyDate(now)
	day := billing.StartOf(date)
	from, to := metav1.NewMicroTime(day.Add(8*time.Hour)), metav1.NewMicroTime(day.Add(8*time.Hour+historySeconds*time.Second))
	objs := []client.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: historyNamespace()}},
		&jetwayv1.Organization{
			ObjectMeta: metav1.ObjectMeta{Name: domain.OrganizationName(historyOrg)},
			Spec:       jetwayv1.OrganizationSpec{ID: historyOrg},
		},
		&jetwayv1.UsageLedger{
			ObjectMeta: metav1.ObjectMeta{Name: domain.UsageLedgerName(historyExtension), Namespace: historyNamespace()},
			Spec: jetwayv1.UsageLedgerSpec{
				ExtensionID: historyExtension, ExtensionName: "yesterday's database", OrganizationID: historyOrg,
				OpenFrom: date, DeletedAt: &to,
				Machines: []jetwayv1.MachineUsage{{
					ID: "history-machine", Region: "iad", ProvenThrough: &to, GoneAt: &to,
					LastEvent: &jetwayv1.MeteredEvent{At: to, Seen: 1, Status: "destroyed"},
					Segments:  []jetwayv1.UsageSegment{{From: from, To: to, Size: "shared-cpu-1x", UnitPriceMicrosPerHour: historyHourMicros}},
				}},
			},
		},
	}
	for _, o := range objs {
		if err := c.Create(ctx, o); err != nil && !apierrors.IsAlreadyExists(err) {
			return "", fmt.Errorf("seed billing history: %T %s: %w", o, o.GetName(), err)
		}
	}
	return date, nil
}
