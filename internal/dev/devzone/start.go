package devzone

import (
	"context"
	"fmt"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/cache"
)

// Start serves zone on the sockets of s from the DNSEndpoints of the
// cluster at cfg, read through an informer cache so each query is
// answered from memory and a change is seen as soon as the watch delivers
// it. It runs until ctx ends; the sockets are bound first (Bind), so a
// taken port fails before anything slow starts.
func (s *Server) Start(ctx context.Context, cfg *rest.Config, scheme *runtime.Scheme, zone string, log logr.Logger) error {
	c, err := cache.New(cfg, cache.Options{Scheme: scheme})
	if err != nil {
		return fmt.Errorf("dev DNS: cache: %w", err)
	}
	z, err := NewZone(zone, c)
	if err != nil {
		return fmt.Errorf("dev DNS: %w", err)
	}
	go func() {
		if err := c.Start(ctx); err != nil {
			log.Error(err, "The dev DNS cache stopped")
		}
	}()
	if !c.WaitForCacheSync(ctx) {
		return fmt.Errorf("dev DNS: the cache did not start")
	}
	s.Serve(z, log)
	go func() {
		<-ctx.Done()
		_ = s.Shutdown(context.Background())
	}()
	return nil
}
