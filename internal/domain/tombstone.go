package domain

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
)

// LabelTombstone marks the ConfigMaps that remember deleted extensions.
const LabelTombstone = "jetway.dev/tombstone"

// Tombstone remembers an extension that was deleted, so a repeated DELETE
// from Fly (at-least-once delivery) answers 200 instead of 404. One small
// ConfigMap per extension, in its namespace: no shared object to contend on.
type Tombstone struct {
	ID             string
	Name           string
	OrganizationID string
	DeletedAt      time.Time
}

// WriteTombstone records ext as deleted. Writing it twice is harmless.
func WriteTombstone(ctx context.Context, c client.Client, ext *jetwayv1.Extension, now time.Time) error {
	cm := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{
			Name:      "tombstone-" + ext.Name,
			Namespace: ext.Namespace,
			Labels: map[string]string{
				LabelTombstone:          "true",
				jetwayv1.LabelFlyIDHash: Hash(ext.Spec.ID),
				jetwayv1.LabelManagedBy: jetwayv1.ManagedByJetway,
			},
		},
		Data: map[string]string{
			"id":              ext.Spec.ID,
			"name":            ext.Spec.Name,
			"organization_id": ext.Spec.Organization.ID,
			"deleted_at":      now.UTC().Format(time.RFC3339),
		},
	}
	if err := c.Create(ctx, cm); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("write tombstone: %w", err)
	}
	return nil
}

// FindTombstone looks up the tombstone of Fly id flyID in any namespace.
func FindTombstone(ctx context.Context, r client.Reader, flyID string) (*Tombstone, error) {
	var list corev1.ConfigMapList
	if err := r.List(ctx, &list, client.MatchingLabels{
		LabelTombstone:          "true",
		jetwayv1.LabelFlyIDHash: Hash(flyID),
	}); err != nil {
		return nil, fmt.Errorf("list tombstones: %w", err)
	}
	for i := range list.Items {
		if t := tombstoneOf(&list.Items[i]); t.ID == flyID {
			return t, nil
		}
	}
	return nil, nil
}

// ListTombstones lists every tombstone, in every namespace.
func ListTombstones(ctx context.Context, r client.Reader) ([]*Tombstone, error) {
	var list corev1.ConfigMapList
	if err := r.List(ctx, &list, client.MatchingLabels{LabelTombstone: "true"}); err != nil {
		return nil, fmt.Errorf("list tombstones: %w", err)
	}
	out := make([]*Tombstone, 0, len(list.Items))
	for i := range list.Items {
		if t := tombstoneOf(&list.Items[i]); t.ID != "" {
			out = append(out, t)
		}
	}
	return out, nil
}

func tombstoneOf(cm *corev1.ConfigMap) *Tombstone {
	t := &Tombstone{ID: cm.Data["id"], Name: cm.Data["name"], OrganizationID: cm.Data["organization_id"]}
	t.DeletedAt, _ = time.Parse(time.RFC3339, cm.Data["deleted_at"])
	return t
}

// ForgetTombstone removes flyID's tombstone, for an id provisioned again.
// c reads from the manager's cache, which holds every tombstone: the common
// case, an id never deleted, costs no API call. A tombstone written so
// recently that the cache has not seen it is left to expire (TombstoneTTL);
// while its Extension exists, nothing reads it.
func ForgetTombstone(ctx context.Context, c client.Client, namespace, extensionObjectName string) error {
	cm := &corev1.ConfigMap{}
	key := client.ObjectKey{Name: "tombstone-" + extensionObjectName, Namespace: namespace}
	if err := c.Get(ctx, key, cm); err != nil {
		return client.IgnoreNotFound(err)
	}
	return client.IgnoreNotFound(c.Delete(ctx, cm))
}
