package gateway

import (
	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
	"github.com/jetway-dev/jetway/internal/domain"
)

// provisionResponse is the answer to POST: the resource plus the config
// Fly sets as secrets on the customer's app.
type provisionResponse struct {
	domain.Resource
	Config map[string]string `json:"config"`
}

func (s *Server) resourceOf(ext *jetwayv1.Extension) domain.Resource {
	return s.cfg.Domain.ResourceOf(ext)
}
