package gateway

import (
	"context"
	"fmt"

	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/manager"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
	"github.com/jetway-dev/jetway/internal/extindex"
	"github.com/jetway-dev/jetway/internal/naming"
)

// Field indexes the gateway looks Extensions up by. The one by DNS label,
// which the controllers read too, is extindex's.
const indexFlyID = "spec.id"

// SetupIndexes registers the gateway's field indexes with the manager's
// cache. Call it before the manager starts.
func SetupIndexes(ctx context.Context, mgr manager.Manager) error {
	idx := mgr.GetFieldIndexer()
	if err := idx.IndexField(ctx, &jetwayv1.Extension{}, indexFlyID, func(o client.Object) []string {
		return []string{o.(*jetwayv1.Extension).Spec.ID}
	}); err != nil {
		return fmt.Errorf("index extensions by fly id: %w", err)
	}
	if err := idx.IndexField(ctx, &jetwayv1.Extension{}, indexMachineID, func(o client.Object) []string {
		var ids []string
		for _, m := range o.(*jetwayv1.Extension).Status.Machines {
			ids = append(ids, m.ID)
		}
		return ids
	}); err != nil {
		return fmt.Errorf("index extensions by machine id: %w", err)
	}
	if err := idx.IndexField(ctx, &jetwayv1.Extension{}, indexAppName, func(o client.Object) []string {
		if app := o.(*jetwayv1.Extension).Status.AppName; app != "" {
			return []string{app}
		}
		return nil
	}); err != nil {
		return fmt.Errorf("index extensions by app: %w", err)
	}
	return nil
}

// findByID finds the Extension with Fly id id; see FindExtensionByID.
func (s *Server) findByID(ctx context.Context, id string) (*jetwayv1.Extension, error) {
	return FindExtensionByID(ctx, s.client, s.live, id)
}

// FindExtensionByID finds the Extension with Fly id id, wherever it lives
// (GitOps may put one in any namespace); nil, nil when there is none. The
// cache answers first, by the index SetupIndexes registers; on a miss the
// API server is asked by label, so a POST followed at once by a GET is
// never told 404 by a cache that has not caught up.
func FindExtensionByID(ctx context.Context, cached, live client.Reader, id string) (*jetwayv1.Extension, error) {
	var list jetwayv1.ExtensionList
	if err := cached.List(ctx, &list, client.MatchingFields{indexFlyID: id}); err != nil {
		return nil, fmt.Errorf("list extensions by id: %w", err)
	}
	if len(list.Items) > 0 {
		return &list.Items[0], nil
	}
	if err := live.List(ctx, &list, client.MatchingLabels{jetwayv1.LabelFlyIDHash: naming.Hash(id)}); err != nil {
		return nil, fmt.Errorf("list extensions by id label: %w", err)
	}
	for i := range list.Items {
		if list.Items[i].Spec.ID == id {
			return &list.Items[i], nil
		}
	}
	return nil, nil
}

// findByName finds an Extension that holds a name, if any: one whose name
// becomes the same DNS label, since that is what must be unique.
func (s *Server) findByName(ctx context.Context, name string) (*jetwayv1.Extension, error) {
	holders, err := extindex.ByDNSLabel(ctx, s.client, name)
	if err != nil || len(holders) == 0 {
		return nil, err
	}
	return &holders[0], nil
}
