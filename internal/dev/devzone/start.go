package devzone

import (
	"context"
	"fmt"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/cache"
)

// Start serves zone on addr from the DNSEndpoints of the cluster at cfg,
// read through an informer cache so each query is answered from memory
// and a change is seen as soon as the watch delivers it. It runs until
// ctx ends.
func Start(ctx context.Context, cfg *rest.Config, scheme *runtime.Scheme, zone, addr string, log logr.Logger) (*Server, error) {
	c, err := cache.New(cfg, cache.Options{Scheme: scheme})
	if err != nil {
		return nil, fmt.Errorf("dev DNS: cache: %w", err)
	}
	z, err := NewZone(zone, c)
	if err != nil {
		return nil, fmt.Errorf("dev DNS: %w", err)
	}
	go func() {
		if err := c.Start(ctx); err != nil {
			log.Error(err, "The dev DNS cache stopped")
		}
	}()
	if !c.WaitForCacheSync(ctx) {
		return nil, fmt.Errorf("dev DNS: the cache did not start")
	}
	s, err := Listen(addr, z, log)
	if err != nil {
		return nil, err
	}
	go func() {
		<-ctx.Done()
		_ = s.Shutdown(context.Background())
	}()
	return s, nil
}
