package extension

import (
	"context"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
	"github.com/jetway-dev/jetway/controllers/internal/extstatus"
	"github.com/jetway-dev/jetway/internal/dns/externaldns"
	"github.com/jetway-dev/jetway/internal/domain"
)

// Names must be unique in their DNS form: two extensions publishing one
// DNS name would send one customer's clients to another's database. The
// gateway refuses a taken name, but Extensions applied with kubectl or by
// GitOps never pass through it. So the controller checks too, before any
// Fly resource is made: the oldest Extension holding a DNS label keeps it,
// and every later one is Stalled until it is renamed (names are immutable,
// so: recreated) or the holder is deleted.

// checkNameIsOurs stalls ext if an older Extension already holds its DNS
// name. The message does not say which one: it reaches Fly's customer, and
// the holder may be another organization's (`kubectl get extensions -A`
// shows it to an operator).
func (r *Reconciler) checkNameIsOurs(ctx context.Context, ext *jetwayv1.Extension) error {
	peers, err := domain.ExtensionsByDNSLabel(ctx, r.Client, ext.Spec.Name)
	if err != nil {
		return err
	}
	for i := range peers {
		if !holdsBefore(&peers[i], ext) {
			continue
		}
		// Two passes that started before either cache held the other may
		// both have published; the later one takes its record back.
		ep := &externaldns.DNSEndpoint{ObjectMeta: metav1.ObjectMeta{Name: domain.DNSEndpointName(ext.Name), Namespace: ext.Namespace}}
		if err := client.IgnoreNotFound(r.Delete(ctx, ep)); err != nil {
			return fmt.Errorf("withdraw dnsendpoint of a taken name: %w", err)
		}
		t := newTerminal(jetwayv1.ReasonDNSNameTaken,
			"The DNS name %s is already used by another extension; give this one another name", ext.Status.DNSName)
		extstatus.MarkFalse(ext, jetwayv1.ConditionDNSReady, t.reason, "%s", t.message)
		return t
	}
	return nil
}

// holdsBefore reports whether a, a different Extension, came first:
// created earlier, or in the same second with the smaller namespace/name,
// so that every replica and every pass agrees on one holder.
func holdsBefore(a, b *jetwayv1.Extension) bool {
	if a.UID == b.UID {
		return false
	}
	if !a.CreationTimestamp.Equal(&b.CreationTimestamp) {
		return a.CreationTimestamp.Before(&b.CreationTimestamp)
	}
	return client.ObjectKeyFromObject(a).String() < client.ObjectKeyFromObject(b).String()
}

// namePeers maps a deleted Extension to the others with its DNS label, so
// the next in line stops being Stalled at once rather than at the next
// stalled recheck.
func (r *Reconciler) namePeers(ctx context.Context, obj client.Object) []reconcile.Request {
	gone, ok := obj.(*jetwayv1.Extension)
	if !ok {
		return nil
	}
	peers, err := domain.ExtensionsByDNSLabel(ctx, r.Client, gone.Spec.Name)
	if err != nil {
		return nil
	}
	var out []reconcile.Request
	for i := range peers {
		if peers[i].UID != gone.UID {
			out = append(out, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&peers[i])})
		}
	}
	return out
}

// onlyDeletes passes delete events alone.
var onlyDeletes = predicate.Funcs{
	CreateFunc:  func(event.CreateEvent) bool { return false },
	UpdateFunc:  func(event.UpdateEvent) bool { return false },
	DeleteFunc:  func(event.DeleteEvent) bool { return true },
	GenericFunc: func(event.GenericEvent) bool { return false },
}
