package integration

import (
	"context"
	"testing"
	"time"

	"github.com/onsi/gomega"
	flygo "github.com/superfly/fly-go"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
	"github.com/jetway-dev/jetway/internal/fly"
)

// storagePlan is a plan whose machines each get a 10 GB volume at /data.
func storagePlan(t *testing.T) string {
	t.Helper()
	return storagePlanOf(t, 10)
}

// storagePlanOf is a plan whose machines each get a volume of sizeGB at
// /data.
func storagePlanOf(t *testing.T, sizeGB int32) string {
	t.Helper()
	name := uniqueID("stateful")
	plan := &jetwayv1.ExtensionPlan{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: jetwayv1.ExtensionPlanSpec{
			Image:      standardImage,
			Storage:    &jetwayv1.StorageSpec{SizeGB: sizeGB, MountPath: "/data", SnapshotRetentionDays: ptr.To[int32](7)},
			Connection: jetwayv1.ConnectionSpec{Config: map[string]string{"LOGJAM_URL": connTemplate}, Port: 5432},
		},
	}
	if err := k8s.Create(ctxFor(t), plan); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = k8s.Delete(context.Background(), plan) })
	return name
}

// volumesOf lists an app's live volumes on flysim, by region.
func volumesOf(app string) map[string][]flygo.Volume {
	out := map[string][]flygo.Volume{}
	for _, v := range sim.Volumes(app) {
		out[v.Region] = append(out[v.Region], v)
	}
	return out
}

// TestEachMachineMountsItsOwnVolume: under a plan with storage, every
// machine is created with a volume of its own, in its region, mounted at
// the plan's path; deprovisioning leaves no volume behind.
func TestEachMachineMountsItsOwnVolume(t *testing.T) {
	g := newG(t)
	id := uniqueID("vol")
	req := provisionRequest(id, "vol-"+id, uniqueID("org"))
	req["plan"] = storagePlan(t)
	req["read_regions"] = []string{"sea"}
	provision(t, req)
	ext := waitReady(t, id)

	machines := liveMachines(id)
	g.Expect(machines).To(gomega.HaveLen(2))
	vols := volumesOf(ext.Status.AppName)
	for _, m := range machines {
		g.Expect(m.Config.Mounts).To(gomega.HaveLen(1), "machine %s", m.ID)
		mount := m.Config.Mounts[0]
		g.Expect(mount.Path).To(gomega.Equal("/data"))
		g.Expect(vols[m.Region]).To(gomega.ConsistOf(gomega.And(
			gomega.HaveField("ID", mount.Volume), gomega.HaveField("SizeGb", 10),
			gomega.HaveField("SnapshotRetention", 7),
			gomega.HaveField("AttachedMachine", gomega.HaveValue(gomega.Equal(m.ID))))),
			"machine %s in %s mounts the one volume of its region", m.ID, m.Region)
	}

	resp, err := flyAPI.Delete(ctxFor(t), id)
	g.Expect(err).NotTo(gomega.HaveOccurred())
	g.Expect(resp.StatusCode).To(gomega.BeNumerically("<", 300))
	g.Eventually(func() []flygo.Volume { return sim.Volumes(ext.Status.AppName) }).Should(gomega.BeEmpty())
}

// TestVolumeCapacityAndALeftoverVolume: a region out of volume capacity is
// reported on the extension as such; a volume a dead pass left behind
// (created, its machine never made) is mounted rather than doubled; and
// once the region has room the extension becomes Ready with one volume
// there.
func TestVolumeCapacityAndALeftoverVolume(t *testing.T) {
	g := newG(t)
	const region = "syd"
	g.Expect(sim.SetVolumeCapacity(region, false)).To(gomega.Succeed())
	t.Cleanup(func() { _ = sim.SetVolumeCapacity(region, true) })
	id := uniqueID("full")
	req := provisionRequest(id, "full-"+id, uniqueID("org"))
	req["plan"] = storagePlan(t)
	req["read_regions"] = []string{region}
	provision(t, req)

	var ext *jetwayv1.Extension
	g.Eventually(func(g gomega.Gomega) {
		var err error
		ext, err = findExtension(ctxFor(t), id)
		g.Expect(err).NotTo(gomega.HaveOccurred())
		g.Expect(ext).NotTo(gomega.BeNil())
		c := meta.FindStatusCondition(ext.Status.Conditions, jetwayv1.ConditionMachinesReady)
		g.Expect(c).NotTo(gomega.BeNil())
		g.Expect(c.Reason).To(gomega.Equal(jetwayv1.ReasonInsufficientCapacity))
		g.Expect(c.Message).To(gomega.ContainSubstring("volume in " + region))
		g.Expect(c.Message).To(gomega.ContainSubstring("no capacity"))
	}).Should(gomega.Succeed())

	// What a pass that died after creating the volume would have left,
	// made through Fly's API while Jetway is told to keep its hands off
	// (paused), so that none of its passes races the test to the region.
	setPaused(t, ext, true)
	g.Expect(sim.SetVolumeCapacity(region, true)).To(gomega.Succeed())
	flyc, err := fly.New(ctxFor(t), fly.Options{BaseURL: simURL, Token: flyToken, OrgSlug: orgSlug})
	g.Expect(err).NotTo(gomega.HaveOccurred())
	size := 10
	leftover, err := flyc.CreateVolume(ctxFor(t), ext.Status.AppName, flygo.CreateVolumeRequest{
		Name: "data_replica_" + region, Region: region, SizeGb: &size})
	g.Expect(err).NotTo(gomega.HaveOccurred())
	g.Expect(volumesOf(ext.Status.AppName)[region]).To(gomega.HaveLen(1), "a paused extension made no volume of its own")
	setPaused(t, ext, false)

	ext = waitReady(t, id)
	vols := volumesOf(ext.Status.AppName)
	g.Expect(vols[region]).To(gomega.ConsistOf(gomega.HaveField("ID", leftover.ID)), "the leftover volume was mounted, not doubled")
	for _, m := range liveMachines(id) {
		if m.Region == region {
			g.Expect(m.Config.Mounts).To(gomega.ConsistOf(gomega.HaveField("Volume", leftover.ID)))
		}
	}
}

// setPaused sets or clears the extension's paused annotation.
func setPaused(t *testing.T, ext *jetwayv1.Extension, paused bool) {
	t.Helper()
	newG(t).Eventually(func() error {
		cur := &jetwayv1.Extension{}
		if err := k8s.Get(ctxFor(t), client.ObjectKeyFromObject(ext), cur); err != nil {
			return err
		}
		if cur.Annotations == nil {
			cur.Annotations = map[string]string{}
		}
		if paused {
			cur.Annotations[jetwayv1.AnnotationPaused] = "true"
		} else {
			delete(cur.Annotations, jetwayv1.AnnotationPaused)
		}
		return k8s.Update(ctxFor(t), cur)
	}).Should(gomega.Succeed())
	if paused && ext.Status.AppName != "" {
		// A pass already running when the annotation landed ends first:
		// wait until Fly has heard nothing about the app for a second.
		calls := func() int {
			n := 0
			for _, c := range sim.AppRequests(ext.Status.AppName) {
				n += c
			}
			return n
		}
		last := calls()
		newG(t).Eventually(func() bool {
			time.Sleep(time.Second)
			now := calls()
			quiet := now == last
			last = now
			return quiet
		}, time.Minute, 10*time.Millisecond).Should(gomega.BeTrue(), "the extension's passes never stopped calling Fly after it was paused")
	} else if paused {
		time.Sleep(time.Second)
	}
}
