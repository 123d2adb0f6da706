// Package ssa writes a controller's status with server-side apply: each
// controller applies only the fields it owns, under a field manager of its
// own, so two controllers writing parts of one status never overwrite each
// other and `kubectl get -o yaml --show-managed-fields` says who wrote what.
// This is how cert-manager writes Certificate status (its
// internal/controller/certificates ApplyStatus), for the same reason.
package ssa

import (
	"context"
	"encoding/json"
	"fmt"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
)

// ApplyStatus applies status to obj's status subresource as owner and
// returns the object as the API server now has it. status must hold exactly
// the owner's fields: a field the owner applied before and leaves out now is
// removed, and a field it did not include is left to whoever owns it.
//
// A non-empty resourceVersion makes the apply conditional on it (a conflict
// error when the object moved on), for a writer whose status was computed
// from a copy that may be stale. The body is built by hand rather than from
// the typed object so that no spec or metadata field (typed zero values
// included) is ever applied, and so owned by, a status writer.
func ApplyStatus(ctx context.Context, c client.Client, obj client.Object, owner client.FieldOwner, resourceVersion string, status any) (client.Object, error) {
	gvk, err := apiutil.GVKForObject(obj, c.Scheme())
	if err != nil {
		return nil, fmt.Errorf("apply status: %w", err)
	}
	meta := map[string]any{"name": obj.GetName()}
	if ns := obj.GetNamespace(); ns != "" {
		meta["namespace"] = ns
	}
	if resourceVersion != "" {
		meta["resourceVersion"] = resourceVersion
	}
	body, err := json.Marshal(map[string]any{
		"apiVersion": gvk.GroupVersion().String(),
		"kind":       gvk.Kind,
		"metadata":   meta,
		"status":     status,
	})
	if err != nil {
		return nil, fmt.Errorf("apply status: %w", err)
	}
	// The caller's object keeps what it computed; the server's answer goes
	// into a copy.
	applied, ok := obj.DeepCopyObject().(client.Object)
	if !ok {
		return nil, fmt.Errorf("apply status: %T is not a client.Object", obj)
	}
	if err := c.Status().Patch(ctx, applied, client.RawPatch(types.ApplyPatchType, body), owner, client.ForceOwnership); err != nil {
		return nil, err
	}
	return applied, nil
}
