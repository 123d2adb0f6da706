package gateway

import (
	"context"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
	"github.com/jetway-dev/jetway/internal/domain"
)

// findByID finds the Extension with Fly id id; see domain.FindExtensionByID.
func (s *Server) findByID(ctx context.Context, id string) (*jetwayv1.Extension, error) {
	return domain.FindExtensionByID(ctx, s.client, s.live, id)
}

// findByName finds an Extension that holds a name, if any: one whose name
// becomes the same DNS label, since that is what must be unique.
func (s *Server) findByName(ctx context.Context, name string) (*jetwayv1.Extension, error) {
	holders, err := domain.ExtensionsByDNSLabel(ctx, s.client, name)
	if err != nil || len(holders) == 0 {
		return nil, err
	}
	return &holders[0], nil
}
