package integration

import (
	"testing"
	"time"

	"github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
	"github.com/jetway-dev/jetway/internal/dev/flysim"
	"github.com/jetway-dev/jetway/internal/domain"
	flyclient "github.com/jetway-dev/jetway/internal/fly"
)

// TestRestoreFinalSnapshotsAfterReapply: an extension deleted by mistake is
// applied again with the same id and asks for its final snapshots. It
// adopts the app its deprovisioning kept, and each machine comes back on a
// volume made from its own final snapshot.
func TestRestoreFinalSnapshotsAfterReapply(t *testing.T) {
	g := newG(t)
	ctx := ctxFor(t)
	id := uniqueID("reapply")
	req := provisionRequest(id, "reapply-"+id, uniqueID("org"))
	req["plan"] = storagePlan(t)
	req["read_regions"] = []string{"sea"}
	provision(t, req)
	ext := waitReady(t, id)

	resp, err := flyAPI.Delete(ctx, id)
	g.Expect(err).NotTo(gomega.HaveOccurred())
	g.Expect(resp.StatusCode).To(gomega.BeNumerically("<", 300))
	g.Eventually(func() error { return k8s.Get(ctx, client.ObjectKeyFromObject(ext), &jetwayv1.Extension{}) }).
		Should(gomega.Satisfy(apierrors.IsNotFound))
	rec, err := domain.FindRetention(ctx, k8s, ext.Namespace, id)
	g.Expect(err).NotTo(gomega.HaveOccurred())
	g.Expect(rec).NotTo(gomega.BeNil())
	final := map[string]string{} // role/region → final snapshot
	for _, v := range rec.Volumes {
		final[v.Role+"/"+v.Region] = v.SnapshotID
	}
	g.Expect(final).To(gomega.HaveLen(2))

	// Re-applied as GitOps would: the same spec, asking for the final
	// snapshots from the start.
	again := &jetwayv1.Extension{
		ObjectMeta: metav1.ObjectMeta{Name: ext.Name, Namespace: ext.Namespace,
			Annotations: map[string]string{jetwayv1.AnnotationRestoreFromSnapshot: jetwayv1.RestoreFinal}},
		Spec: ext.Spec,
	}
	g.Expect(k8s.Create(ctx, again)).To(gomega.Succeed())
	restored := waitRestored(t, id)
	g.Expect(restored.Status.AppName).To(gomega.Equal(ext.Status.AppName), "the kept app is adopted")
	ms := liveMachines(id)
	g.Expect(placement(ms)).To(gomega.HaveLen(2))
	for _, m := range ms {
		key := m.Config.Metadata[flyclient.MetaRole] + "/" + m.Config.Metadata[flyclient.MetaRegion]
		g.Expect(volumeInfo(m.Config.Mounts[0].Volume)).To(gomega.HaveField("RestoredFrom", final[key]),
			"the %s machine's volume is made from its own final snapshot", key)
	}
	g.Expect(liveVolumeCount(restored.Status.AppName)).To(gomega.Equal(2), "one volume per machine, no leftovers")
}

// TestRollbackToASnapshot: a live extension's primary is rolled back to a
// snapshot of its volume. The primary is replaced by a machine on a volume
// made from the snapshot; the volume it replaces is snapshotted, then
// destroyed; the replica in another region is left to catch up. The
// snapshot of the replaced volume undoes the rollback the same way.
func TestRollbackToASnapshot(t *testing.T) {
	g := newG(t)
	ctx := ctxFor(t)
	id := uniqueID("rollback")
	req := provisionRequest(id, "rollback-"+id, uniqueID("org"))
	req["plan"] = storagePlan(t)
	req["read_regions"] = []string{"sea"}
	provision(t, req)
	ext := waitReady(t, id)
	app := ext.Status.AppName
	before := placement(liveMachines(id))
	oldPrimaryVolume := mountOf(id, "primary/iad")
	replicaVolume := mountOf(id, "replica/sea")
	snapshot := takeSnapshot(t, app, oldPrimaryVolume)

	setAnnotation(t, ext, jetwayv1.AnnotationRestoreFromSnapshot, snapshot)
	restored := waitRestored(t, id)
	after := placement(liveMachines(id))
	g.Expect(after["primary/iad"]).NotTo(gomega.Equal(before["primary/iad"]), "the primary was not replaced")
	g.Expect(after["replica/sea"]).To(gomega.Equal(before["replica/sea"]), "the replica in another region was touched")
	g.Expect(mountOf(id, "replica/sea")).To(gomega.Equal(replicaVolume))
	g.Expect(volumeInfo(mountOf(id, "primary/iad"))).To(gomega.HaveField("RestoredFrom", snapshot))
	g.Expect(volumeInfo(oldPrimaryVolume).State).To(gomega.BeElementOf("pending_destroy", "destroyed"), "the replaced volume stays")
	g.Expect(liveVolumeCount(app)).To(gomega.Equal(2))

	// What the replaced volume held is kept in a snapshot status names.
	g.Expect(restored.Status.Restore.Volumes).To(gomega.HaveLen(1))
	undo := restored.Status.Restore.Volumes[0].ReplacedSnapshotID
	g.Expect(undo).NotTo(gomega.BeNil())
	g.Expect(sim.VolumeSnapshots(oldPrimaryVolume)).To(gomega.ContainElement(gomega.HaveField("ID", *undo)))
	g.Expect(*undo).NotTo(gomega.Equal(snapshot))

	// A request is carried out once, however many passes see it.
	rolledBack := after["primary/iad"]
	g.Consistently(func() string { return placement(liveMachines(id))["primary/iad"] }).WithTimeout(5 * time.Second).
		Should(gomega.Equal(rolledBack))

	// Undo: restore the snapshot of the replaced volume.
	setAnnotation(t, ext, jetwayv1.AnnotationRestoreFromSnapshot, *undo)
	waitRestoredFrom(t, id, *undo)
	g.Expect(volumeInfo(mountOf(id, "primary/iad"))).To(gomega.HaveField("RestoredFrom", *undo))
	g.Expect(placement(liveMachines(id))["replica/sea"]).To(gomega.Equal(before["replica/sea"]))

	// Removing the annotation forgets the restore.
	setAnnotation(t, ext, jetwayv1.AnnotationRestoreFromSnapshot, "")
	g.Eventually(func(g gomega.Gomega) {
		cur, err := findExtension(ctx, id)
		g.Expect(err).NotTo(gomega.HaveOccurred())
		g.Expect(cur.Status.Restore).To(gomega.BeNil())
		g.Expect(meta.FindStatusCondition(cur.Status.Conditions, jetwayv1.ConditionRestored)).To(gomega.BeNil())
	}).Should(gomega.Succeed())
}

// TestRestoreThatCannotBeDone: a snapshot id that is none of the
// extension's, a value that is no snapshot id, and a snapshot of a
// replica's volume in another region than the primary's are each refused
// with a condition that says so, and the extension runs on untouched.
func TestRestoreThatCannotBeDone(t *testing.T) {
	g := newG(t)
	ctx := ctxFor(t)
	id := uniqueID("badrestore")
	req := provisionRequest(id, "badrestore-"+id, uniqueID("org"))
	req["plan"] = storagePlan(t)
	req["read_regions"] = []string{"sea"}
	provision(t, req)
	ext := waitReady(t, id)
	before := placement(liveMachines(id))
	volumesBefore := liveVolumeCount(ext.Status.AppName)
	replicaSnapshot := takeSnapshot(t, ext.Status.AppName, mountOf(id, "replica/sea"))

	for _, tc := range []struct{ value, reason, says string }{
		{"vs_NoSuchSnapshot0000000000", jetwayv1.ReasonSnapshotNotFound, "vs_NoSuchSnapshot0000000000"},
		{"not a snapshot!", jetwayv1.ReasonRestoreRefused, "neither a snapshot id"},
		{replicaSnapshot, jetwayv1.ReasonRestoreRefused, "only in its own region"},
	} {
		setAnnotation(t, ext, jetwayv1.AnnotationRestoreFromSnapshot, tc.value)
		g.Eventually(func(g gomega.Gomega) {
			cur, err := findExtension(ctx, id)
			g.Expect(err).NotTo(gomega.HaveOccurred())
			c := meta.FindStatusCondition(cur.Status.Conditions, jetwayv1.ConditionRestored)
			g.Expect(c).NotTo(gomega.BeNil(), "no Restored condition for %q", tc.value)
			g.Expect(cur.Status.Restore).NotTo(gomega.BeNil())
			g.Expect(cur.Status.Restore.Request).To(gomega.Equal(tc.value))
			g.Expect(c.Status).To(gomega.Equal(metav1.ConditionFalse))
			g.Expect(c.Reason).To(gomega.Equal(tc.reason))
			g.Expect(c.Message).To(gomega.ContainSubstring(tc.says))
		}).Should(gomega.Succeed())
		cur := waitReady(t, id)
		g.Expect(cur.Status.Phase).To(gomega.Equal(jetwayv1.PhaseReady), "a refused restore is no error of the extension")
		g.Expect(placement(liveMachines(id))).To(gomega.Equal(before), "a refused restore touched a machine")
		g.Expect(liveVolumeCount(ext.Status.AppName)).To(gomega.Equal(volumesBefore), "a refused restore left a volume")
	}
}

// waitRestored waits until the extension is Ready with its restore done.
func waitRestored(t *testing.T, flyID string) *jetwayv1.Extension {
	t.Helper()
	var out *jetwayv1.Extension
	newG(t).Eventually(func(g gomega.Gomega) {
		ext, err := findExtension(ctxFor(t), flyID)
		g.Expect(err).NotTo(gomega.HaveOccurred())
		g.Expect(ext).NotTo(gomega.BeNil())
		c := meta.FindStatusCondition(ext.Status.Conditions, jetwayv1.ConditionRestored)
		g.Expect(c).NotTo(gomega.BeNil(), "no Restored condition")
		g.Expect(c.Status).To(gomega.Equal(metav1.ConditionTrue), "Restored: %s: %s", c.Reason, c.Message)
		g.Expect(ext.Status.Restore.Request).To(gomega.Equal(ext.Annotations[jetwayv1.AnnotationRestoreFromSnapshot]))
		out = ext
	}).Should(gomega.Succeed())
	waitReady(t, flyID)
	return out
}

// waitRestoredFrom waits until the restore of snapshot is done.
func waitRestoredFrom(t *testing.T, flyID, snapshot string) {
	t.Helper()
	newG(t).Eventually(func(g gomega.Gomega) {
		ext, err := findExtension(ctxFor(t), flyID)
		g.Expect(err).NotTo(gomega.HaveOccurred())
		g.Expect(ext.Status.Restore).NotTo(gomega.BeNil())
		g.Expect(ext.Status.Restore.Request).To(gomega.Equal(snapshot))
		g.Expect(meta.IsStatusConditionTrue(ext.Status.Conditions, jetwayv1.ConditionRestored)).To(gomega.BeTrue())
	}).Should(gomega.Succeed())
	waitReady(t, flyID)
}

// setAnnotation sets an annotation on the Extension, or removes it when
// value is empty.
func setAnnotation(t *testing.T, ext *jetwayv1.Extension, key, value string) {
	t.Helper()
	newG(t).Eventually(func() error {
		cur := &jetwayv1.Extension{}
		if err := k8s.Get(ctxFor(t), client.ObjectKeyFromObject(ext), cur); err != nil {
			return err
		}
		if cur.Annotations == nil {
			cur.Annotations = map[string]string{}
		}
		if value == "" {
			delete(cur.Annotations, key)
		} else {
			cur.Annotations[key] = value
		}
		return k8s.Update(ctxFor(t), cur)
	}).Should(gomega.Succeed())
}

// mountOf is the volume the extension's machine of key ("role/region")
// mounts.
func mountOf(flyID, key string) string {
	for _, m := range liveMachines(flyID) {
		if m.Config.Metadata[flyclient.MetaRole]+"/"+m.Config.Metadata[flyclient.MetaRegion] == key && len(m.Config.Mounts) == 1 {
			return m.Config.Mounts[0].Volume
		}
	}
	return ""
}

// volumeInfo is flysim's view of a volume, ever created.
func volumeInfo(id string) flysim.VolumeInfo {
	for _, v := range sim.AllVolumes() {
		if v.ID == id {
			return v
		}
	}
	return flysim.VolumeInfo{}
}

// liveVolumeCount counts an app's volumes that are not on their way out.
func liveVolumeCount(app string) int {
	n := 0
	for _, v := range sim.Volumes(app) {
		if v.State == "created" {
			n++
		}
	}
	return n
}

// takeSnapshot snapshots a volume through Fly's API, as one of Fly's daily
// snapshots would be, and returns its id.
func takeSnapshot(t *testing.T, app, volume string) string {
	t.Helper()
	c := lateRequests(t)
	if err := c.CreateVolumeSnapshot(ctxFor(t), app, volume); err != nil {
		t.Fatal(err)
	}
	snaps, err := c.ListVolumeSnapshots(ctxFor(t), app, volume)
	if err != nil || len(snaps) == 0 {
		t.Fatalf("snapshots of %s: %v, %v", volume, snaps, err)
	}
	return snaps[len(snaps)-1].ID
}
