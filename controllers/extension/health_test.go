package extension

import (
	"testing"

	flygo "github.com/superfly/fly-go"
	"k8s.io/utils/ptr"

	"github.com/jetway-dev/jetway/internal/fly"
)

func TestHealthNeedsEveryDeclaredCheckPassing(t *testing.T) {
	tcp := flygo.MachineServiceCheck{Type: ptr.To("tcp")}
	withServices := func(svcs ...flygo.MachineService) *fly.Machine {
		return &fly.Machine{State: "started", Config: &flygo.MachineConfig{Services: svcs}}
	}
	write := flygo.MachineService{InternalPort: 5432, Checks: []flygo.MachineServiceCheck{tcp}}
	read := write // same internal port, same check: one check to Fly
	http := flygo.MachineService{InternalPort: 8080, Checks: []flygo.MachineServiceCheck{{Type: ptr.To("http"), HTTPPath: ptr.To("/health")}}}
	passing := func(name string) *flygo.MachineCheckStatus {
		return &flygo.MachineCheckStatus{Name: name, Status: flygo.Passing}
	}

	tests := []struct {
		name    string
		m       *fly.Machine
		checks  []*flygo.MachineCheckStatus
		healthy bool
	}{
		{"no checks declared, none reported", withServices(flygo.MachineService{InternalPort: 80}), nil, true},
		{"just started: Fly lists no checks yet", withServices(write), nil, false},
		{"the one check passes", withServices(write), []*flygo.MachineCheckStatus{passing("servicecheck-00-tcp-5432")}, true},
		{"a write and a read port share a check", withServices(write, read), []*flygo.MachineCheckStatus{passing("servicecheck-00-tcp-5432")}, true},
		{"one of two reported", withServices(write, http), []*flygo.MachineCheckStatus{passing("servicecheck-00-tcp-5432")}, false},
		{"one critical", withServices(write, http), []*flygo.MachineCheckStatus{passing("servicecheck-00-tcp-5432"),
			{Name: "servicecheck-00-http-8080", Status: flygo.Critical, Output: "HTTP GET http://[fdaa::3]:8080/health: 500"}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.m.Checks = tt.checks
			h := healthOf(tt.m, false)
			if h.healthy != tt.healthy {
				t.Errorf("healthy = %v (%q), want %v", h.healthy, h.checks, tt.healthy)
			}
		})
	}
}
