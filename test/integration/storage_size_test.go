package integration

import (
	"testing"
	"time"

	"github.com/onsi/gomega"
	flygo "github.com/superfly/fly-go"
	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
	"github.com/jetway-dev/jetway/internal/dev/flyside"
	flyclient "github.com/jetway-dev/jetway/internal/fly"
	kstatus "sigs.k8s.io/cli-utils/pkg/kstatus/status"
)

// volumeSizes are an app's live volumes' sizes by id.
func volumeSizes(app string) map[string]int {
	out := map[string]int{}
	for _, v := range sim.Volumes(app) {
		out[v.ID] = v.SizeGb
	}
	return out
}

// TestVolumesGrowWithThePlanAndNeverShrink: a plan's larger size extends
// every volume in place (same volumes, one machine at a time); the API
// server refuses a plan that shrinks its storage or drops it; and an
// extension moved to a plan with smaller volumes is refused with a clear
// condition, its machines and volumes left as they are.
func TestVolumesGrowWithThePlanAndNeverShrink(t *testing.T) {
	g := newG(t)
	name := storagePlan(t)
	id := uniqueID("grow")
	req := provisionRequest(id, "grow-"+id, uniqueID("org"))
	req["plan"] = name
	req["read_regions"] = []string{"sea"}
	provision(t, req)
	ext := waitReady(t, id)
	app := ext.Status.AppName
	before := volumeSizes(app)
	g.Expect(before).To(gomega.HaveLen(2))

	editPlan(t, name, func(s *jetwayv1.ExtensionPlanSpec) { s.Storage.SizeGB = 20 })
	g.Eventually(func(g gomega.Gomega) {
		sizes := volumeSizes(app)
		g.Expect(sizes).To(gomega.HaveLen(2))
		for vid := range before {
			g.Expect(sizes).To(gomega.HaveKeyWithValue(vid, 20), "volume %s extended in place", vid)
		}
		for _, m := range liveMachines(id) {
			g.Expect(m.Config.Metadata).To(gomega.HaveKeyWithValue(flyclient.MetaVolumeSizeGB, "20"))
			g.Expect(m.State).To(gomega.Equal(flygo.MachineStateStarted))
		}
	}).WithTimeout(60 * time.Second).Should(gomega.Succeed())
	waitReady(t, id)

	// The plan itself cannot shrink, nor lose its storage.
	plan := &jetwayv1.ExtensionPlan{}
	g.Expect(k8s.Get(ctxFor(t), client.ObjectKey{Name: name}, plan)).To(gomega.Succeed())
	shrunk := plan.DeepCopy()
	shrunk.Spec.Storage.SizeGB = 5
	err := k8s.Update(ctxFor(t), shrunk)
	g.Expect(err).To(gomega.MatchError(gomega.ContainSubstring("storage.sizeGB cannot shrink")))
	dropped := plan.DeepCopy()
	dropped.Spec.Storage = nil
	err = k8s.Update(ctxFor(t), dropped)
	g.Expect(err).To(gomega.MatchError(gomega.ContainSubstring("storage cannot be removed")))

	// Moving the extension to a plan of 5 GB volumes is refused on it.
	small := storagePlanOf(t, 5)
	machinesBefore := map[string]string{}
	for _, m := range liveMachines(id) {
		machinesBefore[m.ID] = m.InstanceID
	}
	resp, err := flyAPI.Update(ctxFor(t), id, map[string]any{"plan": small})
	g.Expect(err).NotTo(gomega.HaveOccurred())
	g.Expect(resp.StatusCode).To(gomega.Equal(200), "body: %s", resp.Body)
	g.Eventually(func(g gomega.Gomega) {
		cur, err := findExtension(ctxFor(t), id)
		g.Expect(err).NotTo(gomega.HaveOccurred())
		c := meta.FindStatusCondition(cur.Status.Conditions, jetwayv1.ConditionMachinesReady)
		g.Expect(c).NotTo(gomega.BeNil())
		g.Expect(c.Reason).To(gomega.Equal(jetwayv1.ReasonStorageShrinkRefused))
		g.Expect(c.Message).To(gomega.And(gomega.ContainSubstring("5 GB"), gomega.ContainSubstring("has 20 GB"), gomega.ContainSubstring("cannot shrink")))
		g.Expect(meta.IsStatusConditionTrue(cur.Status.Conditions, jetwayv1.ConditionStalled)).To(gomega.BeTrue())
		got := jsonBody(t, mustGet(t, id))
		g.Expect(got).To(gomega.HaveKeyWithValue("status", "error"))
		g.Expect(got).To(gomega.HaveKeyWithValue("error_message", gomega.ContainSubstring("cannot shrink")))
	}).WithTimeout(30 * time.Second).Should(gomega.Succeed())
	refused, err := findExtension(ctxFor(t), id)
	g.Expect(err).NotTo(gomega.HaveOccurred())
	expectGitOpsHealth(t, client.ObjectKeyFromObject(refused), argoDegraded, kstatus.FailedStatus)
	g.Consistently(func(g gomega.Gomega) {
		for _, m := range liveMachines(id) {
			g.Expect(machinesBefore).To(gomega.HaveKeyWithValue(m.ID, m.InstanceID), "machine %s left as it was", m.ID)
		}
		for vid, size := range volumeSizes(app) {
			g.Expect(size).To(gomega.Equal(20), "volume %s", vid)
		}
	}).WithTimeout(3 * time.Second).Should(gomega.Succeed())

	// Back on a plan that fits: Ready again.
	resp, err = flyAPI.Update(ctxFor(t), id, map[string]any{"plan": name})
	g.Expect(err).NotTo(gomega.HaveOccurred())
	g.Expect(resp.StatusCode).To(gomega.Equal(200), "body: %s", resp.Body)
	waitReady(t, id)
}

// mustGet is Fly's GET of an extension.
func mustGet(t *testing.T, id string) *flyside.Response {
	t.Helper()
	resp, err := flyAPI.Get(ctxFor(t), id)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}
