package extstatus

import (
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
)

// Owner is one writer of Extension status: its field manager, and which
// fields of a status are its own. Every status field has exactly one owner.
type Owner struct {
	// Manager is the field manager its applies are recorded under.
	Manager client.FieldOwner
	// Part is st cut down to the owner's fields.
	Part func(st jetwayv1.ExtensionStatus) jetwayv1.ExtensionStatus
	// body is what is applied for a part: its fields, and only those.
	body func(part jetwayv1.ExtensionStatus) any
}

// ExtensionController owns everything the Extension controller observes at
// Fly: every field and condition but the notifier's.
var ExtensionController = Owner{
	Manager: "jetway-extension-controller",
	Part: func(st jetwayv1.ExtensionStatus) jetwayv1.ExtensionStatus {
		out := *st.DeepCopy()
		out.Notification = nil
		meta.RemoveStatusCondition(&out.Conditions, jetwayv1.ConditionFlyNotified)
		return out
	},
	body: func(part jetwayv1.ExtensionStatus) any { return part },
}

// Notifier owns what Fly was told by webhook: status.notification and the
// FlyNotified condition.
var Notifier = Owner{
	Manager: "jetway-notifier",
	Part: func(st jetwayv1.ExtensionStatus) jetwayv1.ExtensionStatus {
		out := jetwayv1.ExtensionStatus{Notification: st.Notification.DeepCopy()}
		if c := meta.FindStatusCondition(st.Conditions, jetwayv1.ConditionFlyNotified); c != nil {
			out.Conditions = []metav1.Condition{*c}
		}
		return out
	},
	// Not an ExtensionStatus: its observedGeneration is always serialized,
	// and belongs to the Extension controller.
	body: func(part jetwayv1.ExtensionStatus) any {
		return struct {
			Conditions   []metav1.Condition           `json:"conditions,omitempty"`
			Notification *jetwayv1.NotificationStatus `json:"notification,omitempty"`
		}{part.Conditions, part.Notification}
	},
}
