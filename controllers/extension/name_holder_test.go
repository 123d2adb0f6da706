package extension

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
)

func TestHoldsBeforeAgreesOnOneHolder(t *testing.T) {
	at := func(ns string, uid types.UID, created time.Time) *jetwayv1.Extension {
		return &jetwayv1.Extension{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "db", UID: uid,
			CreationTimestamp: metav1.NewTime(created)}}
	}
	now := time.Now().Truncate(time.Second)
	older, newer := at("b", "1", now.Add(-time.Second)), at("a", "2", now)
	if !holdsBefore(older, newer) || holdsBefore(newer, older) {
		t.Error("the older Extension holds the name, whatever the namespaces")
	}
	x, y := at("a", "3", now), at("b", "4", now)
	if !holdsBefore(x, y) || holdsBefore(y, x) {
		t.Error("in the same second, the smaller namespace/name holds it, seen from either side")
	}
	if holdsBefore(x, x) {
		t.Error("an Extension never blocks itself")
	}
}
