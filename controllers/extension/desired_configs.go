package extension

import (
	flygo "github.com/superfly/fly-go"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
	"github.com/jetway-dev/jetway/internal/fly"
)

// desiredConfigs renders, once per pass and key, the config each desired
// machine should run. A replica's config names the primary's address, so
// it is rendered anew once a pass creates the primary.
type desiredConfigs struct {
	ext            *jetwayv1.Extension
	plan           *jetwayv1.ExtensionPlan
	primaryAddress string
	byKey          map[jetwayv1.MachineKey]*flygo.MachineConfig
}

// newDesiredConfigs renders configs for ext on plan; primary is its current
// primary machine, nil when it has none yet.
func newDesiredConfigs(ext *jetwayv1.Extension, plan *jetwayv1.ExtensionPlan, primary *fly.Machine) *desiredConfigs {
	c := &desiredConfigs{ext: ext, plan: plan, byKey: map[jetwayv1.MachineKey]*flygo.MachineConfig{}}
	if primary != nil {
		c.primaryAddress = primaryAddressOf(ext.Status.AppName, primary.ID)
	}
	return c
}

// of is k's desired config. It is shared: callers copy before changing it.
func (c *desiredConfigs) of(k jetwayv1.MachineKey) *flygo.MachineConfig {
	cfg, ok := c.byKey[k]
	if !ok {
		cfg = machineConfig(c.ext, c.plan, k, c.primaryAddress)
		c.byKey[k] = cfg
	}
	return cfg
}

// hash is the config hash k's machine should carry.
func (c *desiredConfigs) hash(k jetwayv1.MachineKey) string {
	return c.of(k).Metadata[fly.MetaConfigHash]
}

// primaryIs records the primary this pass created: replicas rendered from
// now on name it.
func (c *desiredConfigs) primaryIs(m *fly.Machine) {
	if addr := primaryAddressOf(c.ext.Status.AppName, m.ID); addr != c.primaryAddress {
		c.primaryAddress = addr
		for k := range c.byKey {
			if k.Role == jetwayv1.RoleReplica {
				delete(c.byKey, k)
			}
		}
	}
}
