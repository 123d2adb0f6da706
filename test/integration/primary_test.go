package integration

import (
	"testing"
	"time"

	"github.com/onsi/gomega"
	fly "github.com/superfly/fly-go"
	"k8s.io/utils/ptr"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
	flyclient "github.com/jetway-dev/jetway/internal/fly"
)

// servicePorts are the ports a machine's config serves.
func servicePorts(m fly.Machine) []int {
	var out []int
	for _, s := range m.Config.Services {
		for _, p := range s.Ports {
			out = append(out, *p.Port)
		}
	}
	return out
}

// TestReplicasLearnThePrimaryAndWritesReachOnlyIt: replicas are told the
// primary's private address; the write port is served by the primary
// alone and the read port by every machine, so Flycast sends writes to
// the primary only.
func TestReplicasLearnThePrimaryAndWritesReachOnlyIt(t *testing.T) {
	g := newG(t)
	plan := rolloutPlan(t, func(s *jetwayv1.ExtensionPlanSpec) {
		write := s.Services[0]
		write.ServedBy = ptr.To("primary")
		read := write
		read.ServedBy = ptr.To("all")
		read.Ports = []jetwayv1.PortSpec{{Port: 5433}}
		s.Services = []jetwayv1.ServiceSpec{write, read}
	})
	id := uniqueID("prim")
	req := provisionRequest(id, "prim-"+id, uniqueID("org"))
	req["plan"] = plan.Name
	req["primary_region"] = "ams"
	req["read_regions"] = []string{"syd"}
	provision(t, req)
	ext := waitReady(t, id)

	byKey := map[string]fly.Machine{}
	for _, m := range liveMachines(id) {
		byKey[m.Config.Metadata[flyclient.MetaRole]] = m
	}
	primary, replica := byKey[jetwayv1.RolePrimary], byKey[jetwayv1.RoleReplica]
	g.Expect(replica.Config.Env).To(gomega.HaveKeyWithValue("JETWAY_PRIMARY_ADDRESS", primary.ID+".vm."+ext.Status.AppName+".internal"))
	g.Expect(replica.Config.Env).To(gomega.HaveKeyWithValue("JETWAY_ROLE", "replica"))
	g.Expect(primary.Config.Env).NotTo(gomega.HaveKey("JETWAY_PRIMARY_ADDRESS"))
	g.Expect(servicePorts(primary)).To(gomega.ConsistOf(5432, 5433))
	g.Expect(servicePorts(replica)).To(gomega.ConsistOf(5433), "a replica does not serve the write port")
}

// TestReadRegionChangeLeavesThePrimaryAlone: adding and removing a read
// region adds and removes a replica; the primary is neither updated nor
// restarted.
func TestReadRegionChangeLeavesThePrimaryAlone(t *testing.T) {
	g := newG(t)
	id := uniqueID("rr")
	req := provisionRequest(id, "rr-"+id, uniqueID("org"))
	req["primary_region"] = "ams"
	req["read_regions"] = []string{"fra"}
	provision(t, req)
	waitReady(t, id)
	primaryOf := func() fly.Machine {
		for _, m := range liveMachines(id) {
			if m.Config.Metadata[flyclient.MetaRole] == jetwayv1.RolePrimary {
				return m
			}
		}
		t.Fatal("no primary")
		return fly.Machine{}
	}
	before := primaryOf()

	for _, regions := range [][]string{{"fra", "lhr"}, {"lhr"}} {
		resp, err := flyAPI.Update(ctxFor(t), id, map[string]any{"read_regions": regions})
		g.Expect(err).NotTo(gomega.HaveOccurred())
		g.Expect(resp.StatusCode).To(gomega.Equal(200), "body: %s", resp.Body)
		want := []string{"primary/ams"}
		for _, r := range regions {
			want = append(want, "replica/"+r)
		}
		g.Eventually(func() []string { return keys(placement(liveMachines(id))) }).WithTimeout(30 * time.Second).Should(gomega.ConsistOf(want))
		waitReady(t, id)
	}
	after := primaryOf()
	g.Expect(after.ID).To(gomega.Equal(before.ID))
	g.Expect(after.InstanceID).To(gomega.Equal(before.InstanceID), "the primary was not updated")
	var seen time.Time
	for _, e := range before.Events {
		if e.Time().After(seen) {
			seen = e.Time()
		}
	}
	for _, e := range after.Events {
		if e.Time().After(seen) {
			g.Expect(e.Type).NotTo(gomega.BeElementOf("update", "restart", "exit"), "the primary was touched: %+v", e)
		}
	}
}
