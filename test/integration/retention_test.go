package integration

import (
	"net/http"
	"testing"
	"time"

	"github.com/onsi/gomega"
	flygo "github.com/superfly/fly-go"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/jetway-dev/jetway/controllers/sweepers"
	"github.com/jetway-dev/jetway/internal/domain"
)

// TestDeprovisionKeepsFinalSnapshots: deprovisioning an extension with
// storage destroys its machines, then snapshots each volume (its data no
// longer changing), then destroys the volumes, and keeps the emptied app,
// which Fly's snapshots cannot outlive, with a record of what it keeps. The
// Extension goes at once; the orphan sweeper leaves the app while the
// snapshots last and deletes it, and the record, once they have expired.
func TestDeprovisionKeepsFinalSnapshots(t *testing.T) {
	g := newG(t)
	ctx := ctxFor(t)
	id := uniqueID("final")
	req := provisionRequest(id, "final-"+id, uniqueID("org"))
	req["plan"] = storagePlan(t)
	req["read_regions"] = []string{"sea"}
	provision(t, req)
	ext := waitReady(t, id)
	app := ext.Status.AppName
	machines := liveMachines(id)
	g.Expect(machines).To(gomega.HaveLen(2))
	mounted := map[string]string{} // volume → machine
	for _, m := range machines {
		mounted[m.Config.Mounts[0].Volume] = m.ID
	}

	resp, err := flyAPI.Delete(ctx, id)
	g.Expect(err).NotTo(gomega.HaveOccurred())
	g.Expect(resp.StatusCode).To(gomega.BeNumerically("<", 300), "body: %s", resp.Body)
	g.Eventually(func(g gomega.Gomega) {
		resp, err := flyAPI.Delete(ctx, id)
		g.Expect(err).NotTo(gomega.HaveOccurred())
		g.Expect(resp.StatusCode).To(gomega.Equal(http.StatusOK), "body: %s", resp.Body)
	}).Should(gomega.Succeed(), "the teardown must not hold the Extension for the snapshots' retention")

	// The app is kept, empty: no machines, no volumes, no secrets.
	g.Expect(sim.Apps()).To(gomega.ContainElement(gomega.HaveField("Name", app)))
	g.Expect(liveMachines(id)).To(gomega.BeEmpty())
	g.Expect(liveVolumeCount(app)).To(gomega.BeZero())
	g.Expect(sim.Secrets(app)).To(gomega.BeEmpty(), "a re-applied extension gets new credentials: the old ones must not stay on the app")

	// Each volume has one final snapshot, taken after its machine was
	// destroyed, and the record names them all.
	rec, err := domain.FindRetention(ctx, k8s, ext.Namespace, id)
	g.Expect(err).NotTo(gomega.HaveOccurred())
	g.Expect(rec).NotTo(gomega.BeNil(), "no retention record")
	g.Expect(rec.App).To(gomega.Equal(app))
	g.Expect(rec.Volumes).To(gomega.HaveLen(2))
	var lastExpiry time.Time
	for _, v := range rec.Volumes {
		g.Expect(mounted).To(gomega.HaveKey(v.VolumeID), "the record names a volume no machine mounted")
		g.Expect(v.Mounted).To(gomega.BeTrue())
		snaps := sim.VolumeSnapshots(v.VolumeID)
		g.Expect(snaps).To(gomega.HaveLen(1), "volume %s: one final snapshot, not two", v.VolumeID)
		g.Expect(v.SnapshotID).To(gomega.Equal(snaps[0].ID))
		destroyedAt := machineDestroyedAt(t, mounted[v.VolumeID])
		g.Expect(snaps[0].CreatedAt).NotTo(gomega.BeTemporally("<", destroyedAt),
			"volume %s was snapshotted before its machine was destroyed", v.VolumeID)
		g.Expect(v.SnapshotExpires).To(gomega.BeTemporally("~", snaps[0].CreatedAt.Add(7*24*time.Hour), time.Second))
		if v.SnapshotExpires.After(lastExpiry) {
			lastExpiry = v.SnapshotExpires
		}
	}
	g.Expect(rec.Expires).To(gomega.BeTemporally("~", lastExpiry, time.Second))
	for _, v := range sim.AllVolumes() {
		if v.App == app {
			g.Expect(v.State).To(gomega.BeElementOf("pending_destroy", "destroyed"), "volume %s", v.ID)
		}
	}

	// The sweeper leaves the app while the snapshots last...
	withSweeper(t, sweepers.OrphanSettings{Interval: time.Second, GracePeriod: time.Second})
	g.Consistently(sim.Apps).WithTimeout(4*time.Second).Should(gomega.ContainElement(gomega.HaveField("Name", app)),
		"the sweeper deleted an app kept for its snapshots")

	// ...and deletes it once they have expired, by the record's clock (the
	// record is all a restarted sweeper knows the expiry by).
	expireRetention(t, ext.Namespace, id)
	g.Eventually(sim.Apps).WithTimeout(30*time.Second).ShouldNot(gomega.ContainElement(gomega.HaveField("Name", app)),
		"the sweeper left an app whose snapshots have expired")
	g.Eventually(func() (*domain.Retention, error) { return domain.FindRetention(ctx, k8s, ext.Namespace, id) }).
		Should(gomega.BeNil(), "the expired record stays")
}

// machineDestroyedAt is when flysim's state log says machine id was
// destroyed.
func machineDestroyedAt(t *testing.T, id string) time.Time {
	t.Helper()
	for _, c := range sim.StateHistory(id) {
		if c.State == flygo.MachineStateDestroyed {
			return c.At
		}
	}
	t.Fatalf("machine %s was never destroyed", id)
	return time.Time{}
}

// expireRetention moves a record's expiry into the past, as the passing
// of its snapshots' retention would.
func expireRetention(t *testing.T, namespace, flyID string) {
	t.Helper()
	newG(t).Eventually(func() error {
		cm := &corev1.ConfigMap{}
		if err := k8s.Get(ctxFor(t), client.ObjectKey{Namespace: namespace, Name: domain.RetentionName(flyID)}, cm); err != nil {
			return err
		}
		cm.Data["expires_at"] = time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
		return k8s.Update(ctxFor(t), cm)
	}).Should(gomega.Succeed())
}
