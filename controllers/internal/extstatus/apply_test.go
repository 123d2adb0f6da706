package extstatus

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
)

// TestStalePassAddsNoWrite replays a status write seen in CI: a pass that
// read a cached copy older than the last write computed the same failing
// status afresh, with new transition times. Applied over what is stored,
// it must keep the stored times and not be worth writing.
func TestStalePassAddsNoWrite(t *testing.T) {
	stored := &jetwayv1.Extension{Status: jetwayv1.ExtensionStatus{Phase: "pending"}}
	MarkFalse(stored, jetwayv1.ConditionAppReady, jetwayv1.ReasonFlyUnavailable, "HTTP 500: internal")
	MarkTrue(stored, jetwayv1.ConditionReconciling, jetwayv1.ReasonProgressing, "HTTP 500: internal")
	for i := range stored.Status.Conditions {
		stored.Status.Conditions[i].LastTransitionTime = metav1.NewTime(time.Now().Add(-time.Second).Truncate(time.Second))
	}
	stale := &jetwayv1.Extension{Status: jetwayv1.ExtensionStatus{Phase: "pending"}}
	MarkFalse(stale, jetwayv1.ConditionAppReady, jetwayv1.ReasonFlyUnavailable, "HTTP 502: bad gateway")
	MarkTrue(stale, jetwayv1.ConditionReconciling, jetwayv1.ReasonProgressing, "HTTP 502: bad gateway")

	merged, worth := ExtensionController.toWrite(stored.Status, stale.Status, true)
	for _, c := range merged.Conditions {
		if want := meta.FindStatusCondition(stored.Status.Conditions, c.Type).LastTransitionTime; !c.LastTransitionTime.Equal(&want) {
			t.Errorf("%s moved its transition time from %v to %v without a transition", c.Type, want, c.LastTransitionTime)
		}
	}
	if worth {
		t.Error("a failing pass that only rewords the stored status must not write")
	}
	if _, worth := ExtensionController.toWrite(stored.Status, stale.Status, false); !worth {
		t.Error("a pass that succeeded writes its new messages")
	}

	MarkTrue(stale, jetwayv1.ConditionAppReady, jetwayv1.ReasonAppCreated, "")
	merged, worth = ExtensionController.toWrite(stored.Status, stale.Status, true)
	if c := meta.FindStatusCondition(merged.Conditions, jetwayv1.ConditionAppReady); c.LastTransitionTime.Equal(&stored.Status.Conditions[0].LastTransitionTime) {
		t.Error("a condition that did transition must keep its new time")
	}
	if !worth {
		t.Error("a real change is written even while failing")
	}
}

// TestEachWriterAppliesOnlyItsOwnFields: every status field has one owner,
// and what an owner applies carries nothing of the other's, so neither can
// overwrite the other with a stale copy (the envtest in
// test/integration/status_owners_test.go shows it on a real API server).
func TestEachWriterAppliesOnlyItsOwnFields(t *testing.T) {
	ext := &jetwayv1.Extension{Status: jetwayv1.ExtensionStatus{Phase: "ready", AppName: "app",
		Notification: &jetwayv1.NotificationStatus{Acknowledged: &jetwayv1.Notification{DeliveryID: "n1"}}}}
	MarkTrue(ext, jetwayv1.ConditionReady, jetwayv1.ReasonSucceeded, "running")
	MarkTrue(ext, jetwayv1.ConditionFlyNotified, jetwayv1.ReasonDelivered, "told")

	body := func(o Owner) string {
		b, err := json.Marshal(o.body(o.Part(ext.Status)))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	controller := body(ExtensionController)
	if strings.Contains(controller, "notification") || strings.Contains(controller, jetwayv1.ConditionFlyNotified) {
		t.Errorf("the Extension controller applies the notifier's fields: %s", controller)
	}
	if !strings.Contains(controller, `"phase":"ready"`) || !strings.Contains(controller, `"type":"Ready"`) {
		t.Errorf("the Extension controller lost its own fields: %s", controller)
	}
	notifier := body(Notifier)
	var fields map[string]json.RawMessage
	if err := json.Unmarshal([]byte(notifier), &fields); err != nil {
		t.Fatal(err)
	}
	if len(fields) != 2 || fields["notification"] == nil || fields["conditions"] == nil {
		t.Errorf("the notifier must apply only notification and conditions: %s", notifier)
	}
	if strings.Contains(notifier, `"type":"Ready"`) || !strings.Contains(notifier, jetwayv1.ConditionFlyNotified) {
		t.Errorf("the notifier must apply only the FlyNotified condition: %s", notifier)
	}
}
