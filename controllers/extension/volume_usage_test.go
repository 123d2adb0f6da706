package extension

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
)

// TestVolumeListDue: a look lists the volumes only when a live volume is
// bound to none of the extension's machines and has not been seen since
// the UTC day began, so that an idle extension whose volumes are all
// mounted costs no call for them, and the day before can still close.
func TestVolumeListDue(t *testing.T) {
	now := time.Date(2026, 12, 7, 0, 5, 0, 0, time.UTC)
	yesterday, today := metav1.NewMicroTime(now.Add(-time.Hour)), metav1.NewMicroTime(now.Add(-time.Minute))
	ext := &jetwayv1.Extension{}
	ext.Status.Machines = []jetwayv1.MachineStatus{{ID: "m1", Region: "iad", Role: jetwayv1.RolePrimary}}
	ledger := func(vols ...jetwayv1.VolumeUsage) *jetwayv1.UsageLedger {
		return &jetwayv1.UsageLedger{Spec: jetwayv1.UsageLedgerSpec{Volumes: vols}}
	}
	for name, tc := range map[string]struct {
		ledger *jetwayv1.UsageLedger
		due    bool
	}{
		"no ledger yet":                       {nil, false},
		"bound to a machine, seen yesterday":  {ledger(jetwayv1.VolumeUsage{ID: "v1", Machine: "m1", ProvenThrough: &yesterday}), false},
		"unbound, seen yesterday":             {ledger(jetwayv1.VolumeUsage{ID: "v1", ProvenThrough: &yesterday}), true},
		"unbound, seen today":                 {ledger(jetwayv1.VolumeUsage{ID: "v1", ProvenThrough: &today}), false},
		"its machine is gone, seen yesterday": {ledger(jetwayv1.VolumeUsage{ID: "v1", Machine: "m0", ProvenThrough: &yesterday}), true},
		"unbound but gone":                    {ledger(jetwayv1.VolumeUsage{ID: "v1", ProvenThrough: &yesterday, GoneAt: &yesterday}), false},
		"never proven":                        {ledger(jetwayv1.VolumeUsage{ID: "v1"}), true},
	} {
		if got := volumeListDue(tc.ledger, ext, now); got != tc.due {
			t.Errorf("%s: due = %v, want %v", name, got, tc.due)
		}
	}
}
