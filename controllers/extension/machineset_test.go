package extension

import (
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	flygo "github.com/superfly/fly-go"

	"k8s.io/utils/ptr"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
	"github.com/jetway-dev/jetway/internal/fly"
)

func machine(id, role, region, created, hash string) *fly.Machine {
	return &fly.Machine{ID: id, Region: region, State: "started", CreatedAt: created, Config: &flygo.MachineConfig{
		Image:    "img",
		Metadata: map[string]string{fly.MetaRole: role, fly.MetaRegion: region, fly.MetaConfigHash: hash},
	}}
}

func ids(ms []*fly.Machine) []string {
	out := []string{}
	for _, m := range ms {
		out = append(out, m.ID)
	}
	return out
}

func TestPlanMachineSet(t *testing.T) {
	primary := jetwayv1.MachineKey{Role: jetwayv1.RolePrimary, Region: "mad"}
	syd := jetwayv1.MachineKey{Role: jetwayv1.RoleReplica, Region: "syd"}
	scl := jetwayv1.MachineKey{Role: jetwayv1.RoleReplica, Region: "scl"}
	hash := func(jetwayv1.MachineKey) string { return "h1" }

	tests := []struct {
		name        string
		desired     []jetwayv1.MachineKey
		actual      []*fly.Machine
		known       map[string]bool
		wantKeep    map[string]string // key → id
		wantCreate  []jetwayv1.MachineKey
		wantUpdate  []string
		wantDestroy []string
	}{
		{
			name:       "nothing exists: create all, in desired order",
			desired:    []jetwayv1.MachineKey{primary, syd, scl},
			wantKeep:   map[string]string{},
			wantCreate: []jetwayv1.MachineKey{primary, syd, scl},
		},
		{
			name:     "all exist and match: nothing to do",
			desired:  []jetwayv1.MachineKey{primary, syd},
			actual:   []*fly.Machine{machine("a", "primary", "mad", "1", "h1"), machine("b", "replica", "syd", "1", "h1")},
			wantKeep: map[string]string{"primary/mad": "a", "replica/syd": "b"},
		},
		{
			name:        "a read region removed: destroy exactly its machine",
			desired:     []jetwayv1.MachineKey{primary},
			actual:      []*fly.Machine{machine("a", "primary", "mad", "1", "h1"), machine("b", "replica", "syd", "1", "h1")},
			wantKeep:    map[string]string{"primary/mad": "a"},
			wantDestroy: []string{"b"},
		},
		{
			name:        "a retried create made a twin: keep the one in status, destroy the other",
			desired:     []jetwayv1.MachineKey{primary},
			actual:      []*fly.Machine{machine("old", "primary", "mad", "1", "h1"), machine("known", "primary", "mad", "2", "h1")},
			known:       map[string]bool{"known": true},
			wantKeep:    map[string]string{"primary/mad": "known"},
			wantDestroy: []string{"old"},
		},
		{
			name:        "twins with none known: keep the oldest",
			desired:     []jetwayv1.MachineKey{primary},
			actual:      []*fly.Machine{machine("y", "primary", "mad", "2", "h1"), machine("x", "primary", "mad", "1", "h1")},
			wantKeep:    map[string]string{"primary/mad": "x"},
			wantDestroy: []string{"y"},
		},
		{
			name:       "config drifted: update it",
			desired:    []jetwayv1.MachineKey{primary},
			actual:     []*fly.Machine{machine("a", "primary", "mad", "1", "old-hash")},
			wantKeep:   map[string]string{"primary/mad": "a"},
			wantUpdate: []string{"a"},
		},
		{
			name:    "destroyed machines are ignored and replaced",
			desired: []jetwayv1.MachineKey{primary},
			actual: func() []*fly.Machine {
				m := machine("gone", "primary", "mad", "1", "h1")
				m.State = "destroyed"
				return []*fly.Machine{m}
			}(),
			wantKeep:   map[string]string{},
			wantCreate: []jetwayv1.MachineKey{primary},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := planMachineSet(tt.desired, tt.actual, tt.known, hash, "img")
			keep := map[string]string{}
			for k, m := range p.keep {
				keep[k.String()] = m.ID
			}
			if diff := cmp.Diff(tt.wantKeep, keep); diff != "" {
				t.Errorf("keep (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantCreate, p.create); diff != "" {
				t.Errorf("create (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(nilIfEmpty(tt.wantUpdate), nilIfEmpty(ids(p.update))); diff != "" {
				t.Errorf("update (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(nilIfEmpty(tt.wantDestroy), nilIfEmpty(ids(p.destroy))); diff != "" {
				t.Errorf("destroy (-want +got):\n%s", diff)
			}
		})
	}
}

func nilIfEmpty(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}

func TestImageChangedOutOfBandIsDrift(t *testing.T) {
	m := machine("a", "primary", "mad", "1", "h1")
	m.Config.Image = "someone-elses-image"
	p := planMachineSet([]jetwayv1.MachineKey{{Role: "primary", Region: "mad"}}, []*fly.Machine{m}, nil,
		func(jetwayv1.MachineKey) string { return "h1" }, "img")
	if len(p.update) != 1 {
		t.Fatalf("want the machine updated back to the plan's image, got %d updates", len(p.update))
	}
}

func TestDesiredMachinesDedupesReadRegions(t *testing.T) {
	spec := jetwayv1.ExtensionSpec{PrimaryRegion: "mad", ReadRegions: []string{"syd", "mad", "syd"}}
	got := spec.DesiredMachines()
	want := []jetwayv1.MachineKey{{Role: "primary", Region: "mad"}, {Role: "replica", Region: "syd"}, {Role: "replica", Region: "mad"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestMachineConfigCarriesOwnershipAndStableHash(t *testing.T) {
	ext := &jetwayv1.Extension{Spec: jetwayv1.ExtensionSpec{ID: "fly-1", Name: "db", PrimaryRegion: "mad"}}
	plan := &jetwayv1.ExtensionPlan{Spec: jetwayv1.ExtensionPlanSpec{Image: "img:1", Services: []jetwayv1.ServiceSpec{
		{InternalPort: 5432, Ports: []jetwayv1.PortSpec{{Port: 5432}}, Autostop: "suspend", Autostart: true},
	}}}
	key := jetwayv1.MachineKey{Role: "primary", Region: "mad"}
	a, b := machineConfig(ext, plan, key, ""), machineConfig(ext, plan, key, "")
	if a.Metadata[fly.MetaExtension] != "fly-1" || a.Metadata[fly.MetaRole] != "primary" || a.Metadata[fly.MetaRegion] != "mad" {
		t.Errorf("ownership metadata missing: %v", a.Metadata)
	}
	if a.Metadata[fly.MetaConfigHash] == "" || a.Metadata[fly.MetaConfigHash] != b.Metadata[fly.MetaConfigHash] {
		t.Errorf("hash not stable: %q vs %q", a.Metadata[fly.MetaConfigHash], b.Metadata[fly.MetaConfigHash])
	}
	plan.Spec.Image = "img:2"
	if c := machineConfig(ext, plan, key, ""); c.Metadata[fly.MetaConfigHash] == a.Metadata[fly.MetaConfigHash] {
		t.Error("a new image must change the hash")
	}
	if got := a.Services[0].Autostop.String(); got != "suspend" {
		t.Errorf("autostop = %s, want suspend", got)
	}
}

// TestProxyProtocolPortsTellMachinesTheCustomerAddress: a port with
// proxyProtocol gets Fly's proxy_proto handler with its version, and the
// machines learn the address the PROXY header should name; a plan without
// one leaves the environment alone (a new variable would restart every
// machine).
func TestProxyProtocolPortsTellMachinesTheCustomerAddress(t *testing.T) {
	ext := &jetwayv1.Extension{Spec: jetwayv1.ExtensionSpec{ID: "fly-1", Name: "db", PrimaryRegion: "mad", IPAddress: "fdaa:0:47fb:0:1::1d"}}
	plan := &jetwayv1.ExtensionPlan{Spec: jetwayv1.ExtensionPlanSpec{Image: "img:1", Services: []jetwayv1.ServiceSpec{
		{InternalPort: 5432, Ports: []jetwayv1.PortSpec{{Port: 5432, ProxyProtocol: ptr.To("v2")}, {Port: 5433}}},
	}}}
	key := jetwayv1.MachineKey{Role: "primary", Region: "mad"}
	cfg := machineConfig(ext, plan, key, "")
	ports := cfg.Services[0].Ports
	if !slices.Equal(ports[0].Handlers, []string{"proxy_proto"}) || ports[0].ProxyProtoOptions == nil || ports[0].ProxyProtoOptions.Version != "v2" {
		t.Errorf("PROXY port: handlers %v options %+v, want proxy_proto v2", ports[0].Handlers, ports[0].ProxyProtoOptions)
	}
	if len(ports[1].Handlers) != 0 || ports[1].ProxyProtoOptions != nil {
		t.Errorf("plain port got %v %+v", ports[1].Handlers, ports[1].ProxyProtoOptions)
	}
	if got := cfg.Env[envCustomerAddress]; got != ext.Spec.IPAddress {
		t.Errorf("%s = %q, want the customer address", envCustomerAddress, got)
	}
	plan.Spec.Services[0].Ports[0].ProxyProtocol = nil
	if _, set := machineConfig(ext, plan, key, "").Env[envCustomerAddress]; set {
		t.Errorf("%s set for a plan without the PROXY protocol", envCustomerAddress)
	}
}
