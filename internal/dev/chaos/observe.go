package chaos

import (
	"context"
	"fmt"

	"sigs.k8s.io/controller-runtime/pkg/client"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
	"github.com/jetway-dev/jetway/internal/dev/flysim"
	"github.com/jetway-dev/jetway/internal/domain"
	"github.com/jetway-dev/jetway/internal/fly"
)

// observation is one snapshot of both sides: what Kubernetes holds and
// what exists on (simulated) Fly. The two reads are not atomic together;
// the convergence loop only trusts a clean result that repeats.
type observation struct {
	// exts are the Extensions by Fly id.
	exts map[string]*jetwayv1.Extension
	// images maps plan name to image.
	images map[string]string
	// storage says which plans give each machine a volume.
	storage map[string]bool
	// apps are every app on Fly with its machines, IPs and volumes.
	apps map[string]*flyApp
	// retained are the apps a deprovisioned extension keeps for its final
	// snapshots, by name, with their retention record.
	retained map[string]*domain.Retention
}

type flyApp struct {
	machines []fly.Machine // not destroyed; "destroying" ones still count
	ips      []fly.IPAssignment
	secrets  map[string]string
	volumes  []fly.Volume // not destroyed; those on their way out still listed
}

// observe reads the API server directly (no cache) and flysim's state
// (which does not count as Fly requests).
func observe(ctx context.Context, c client.Reader, sim *flysim.Server) (*observation, error) {
	o := &observation{exts: map[string]*jetwayv1.Extension{}, images: map[string]string{}, storage: map[string]bool{},
		apps: map[string]*flyApp{}, retained: map[string]*domain.Retention{}}
	var exts jetwayv1.ExtensionList
	if err := c.List(ctx, &exts); err != nil {
		return nil, fmt.Errorf("list extensions: %w", err)
	}
	for i := range exts.Items {
		o.exts[exts.Items[i].Spec.ID] = &exts.Items[i]
	}
	var plans jetwayv1.ExtensionPlanList
	if err := c.List(ctx, &plans); err != nil {
		return nil, fmt.Errorf("list plans: %w", err)
	}
	for _, p := range plans.Items {
		o.images[p.Name] = p.Spec.Image
		o.storage[p.Name] = p.Spec.Storage != nil
	}
	records, err := domain.ListRetentions(ctx, c)
	if err != nil {
		return nil, fmt.Errorf("list retention records: %w", err)
	}
	for _, r := range records {
		o.retained[r.App] = r
	}
	for _, a := range sim.Apps() {
		o.apps[a.Name] = &flyApp{machines: sim.Machines(a.Name), ips: sim.IPAssignments(a.Name), secrets: sim.Secrets(a.Name),
			volumes: sim.Volumes(a.Name)}
	}
	return o, nil
}

// metaOf reads a machine's ownership metadata.
func metaOf(m fly.Machine, key string) string {
	if m.Config == nil {
		return ""
	}
	return m.Config.Metadata[key]
}

func keyOfMachine(m fly.Machine) jetwayv1.MachineKey {
	return jetwayv1.MachineKey{Role: metaOf(m, fly.MetaRole), Region: metaOf(m, fly.MetaRegion)}
}
