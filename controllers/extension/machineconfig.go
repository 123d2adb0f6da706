package extension

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"maps"
	"slices"
	"strconv"

	flygo "github.com/superfly/fly-go"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
	"github.com/jetway-dev/jetway/internal/fly"
)

const (
	// envCustomerAddress is the extension's customer-network address, for
	// plans whose services use the PROXY protocol.
	envCustomerAddress = "JETWAY_CUSTOMER_ADDRESS"
	// proxyProtoHandler is Fly's handler name for the PROXY protocol.
	proxyProtoHandler = "proxy_proto"
)

// machineConfig is the Fly config of one desired machine. Ownership
// metadata goes on every machine: it is how a restarted controller finds
// what it created and how nothing we do not own is ever touched.
// primaryAddress is how replicas reach the primary (primaryAddressOf); ""
// while there is no primary yet.
func machineConfig(ext *jetwayv1.Extension, plan *jetwayv1.ExtensionPlan, key jetwayv1.MachineKey, primaryAddress string) *flygo.MachineConfig {
	spec := plan.Spec
	env := maps.Clone(spec.Env)
	if env == nil {
		env = map[string]string{}
	}
	env["JETWAY_EXTENSION_NAME"] = ext.Spec.Name
	env["JETWAY_ROLE"] = key.Role
	env["JETWAY_PRIMARY_REGION"] = ext.Spec.PrimaryRegion
	optionsEnv(ext, plan, env)
	credentialsEnv(ext, env)
	if spec.UsesProxyProtocol() && ext.Spec.IPAddress != "" {
		// What the PROXY header of a customer's connection should name.
		// Only for such plans: a new variable restarts every machine.
		env[envCustomerAddress] = ext.Spec.IPAddress
	}
	if key.Role == jetwayv1.RoleReplica && primaryAddress != "" {
		// Only replicas: the primary's own config must not depend on
		// its id, which Fly gives it only when it is created.
		env[envPrimaryAddress] = primaryAddress
	}

	cfg := &flygo.MachineConfig{
		Image:   spec.Image,
		Env:     env,
		Guest:   machineGuest(plan),
		Mounts:  volumeMount(plan, key),
		Restart: &flygo.MachineRestart{Policy: flygo.MachineRestartPolicy(defaultString(spec.RestartPolicy, "always"))},
		Metadata: map[string]string{
			fly.MetaExtension: ext.Spec.ID,
			fly.MetaRole:      key.Role,
			fly.MetaRegion:    key.Region,
		},
	}
	for _, s := range spec.Services {
		if servedBy(s, key.Role) {
			cfg.Services = append(cfg.Services, machineService(s))
		}
	}
	if spec.Storage != nil {
		// The volume's size is not in a machine's config, but a change of
		// it must roll through the machines like any other: each volume is
		// extended just before its machine is updated (volume_size.go).
		cfg.Metadata[fly.MetaVolumeSizeGB] = strconv.Itoa(int(spec.Storage.SizeGB))
	}
	cfg.Metadata[fly.MetaConfigHash] = configHash(cfg)
	return cfg
}

// machineGuest is the plan's machine size, with Fly's defaults filled in.
func machineGuest(plan *jetwayv1.ExtensionPlan) *flygo.MachineGuest {
	g := plan.Spec.Guest
	return &flygo.MachineGuest{
		CPUKind:  defaultString(g.CPUKind, "shared"),
		CPUs:     defaultInt(g.CPUs, 1),
		MemoryMB: defaultInt(g.MemoryMB, 256),
	}
}

func machineService(s jetwayv1.ServiceSpec) flygo.MachineService {
	svc := flygo.MachineService{
		Protocol:     defaultString(s.Protocol, "tcp"),
		InternalPort: s.InternalPort,
	}
	switch s.Autostop {
	case "stop":
		v := flygo.MachineAutostopStop
		svc.Autostop = &v
	case "suspend":
		v := flygo.MachineAutostopSuspend
		svc.Autostop = &v
	default:
		v := flygo.MachineAutostopOff
		svc.Autostop = &v
	}
	autostart := s.Autostart
	svc.Autostart = &autostart
	if s.MinMachinesRunning != nil {
		n := *s.MinMachinesRunning
		svc.MinMachinesRunning = &n
	}
	for _, p := range s.Ports {
		port := p.Port
		mp := flygo.MachinePort{Port: &port, Handlers: p.Handlers}
		if p.ProxyProtocol != nil {
			if !slices.Contains(mp.Handlers, proxyProtoHandler) {
				mp.Handlers = append(slices.Clone(mp.Handlers), proxyProtoHandler)
			}
			mp.ProxyProtoOptions = &flygo.ProxyProtoOptions{Version: *p.ProxyProtocol}
		}
		svc.Ports = append(svc.Ports, mp)
	}
	for _, c := range s.Checks {
		check := flygo.MachineServiceCheck{Type: &c.Type}
		if c.Path != "" {
			path := c.Path
			check.HTTPPath = &path
		}
		if c.Interval != nil {
			check.Interval = &flygo.Duration{Duration: c.Interval.Duration}
		}
		if c.Timeout != nil {
			check.Timeout = &flygo.Duration{Duration: c.Timeout.Duration}
		}
		if c.GracePeriod != nil {
			check.GracePeriod = &flygo.Duration{Duration: c.GracePeriod.Duration}
		}
		svc.Checks = append(svc.Checks, check)
	}
	return svc
}

// configHash fingerprints a desired config (without the hash itself). It is
// stored in the machine's metadata; a machine whose hash differs from the
// desired one is updated.
func configHash(cfg *flygo.MachineConfig) string {
	c := *cfg
	c.Metadata = maps.Clone(cfg.Metadata)
	delete(c.Metadata, fly.MetaConfigHash)
	b, _ := json.Marshal(&c)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])[:16]
}

func defaultString(v, d string) string {
	if v == "" {
		return d
	}
	return v
}

func defaultInt(v, d int) int {
	if v == 0 {
		return d
	}
	return v
}
