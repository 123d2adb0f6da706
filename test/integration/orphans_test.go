package integration

import (
	"net/http"
	"testing"
	"time"

	"github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
	"github.com/jetway-dev/jetway/controllers/sweepers"
	flyclient "github.com/jetway-dev/jetway/internal/fly"
)

// TestDeletionIgnoresAStaleAppNameTaken forces the interleaving the chaos
// run found: a pass hit AppNameTaken and wrote it to status; a later pass
// created the app's machines and was killed before its deferred status
// write (only the machine ids are saved mid-pass); then Fly deleted the
// extension. The teardown must decide at Fly whose app it is, not trust the
// stale condition, or the app and its running machines outlive the
// extension.
func TestDeletionIgnoresAStaleAppNameTaken(t *testing.T) {
	g := newG(t)
	ctx := ctxFor(t)
	id := uniqueID("stale-taken")
	provision(t, provisionRequest(id, "stale-"+id, uniqueID("org")))
	ext := waitReady(t, id)
	app := appName(id)
	g.Expect(sim.Machines(app)).NotTo(gomega.BeEmpty())

	// With no manager running, nothing rewrites the status before the
	// deletion pass reads it: the interleaving is forced, not hoped for.
	g.Expect(stopManager()).To(gomega.Succeed())
	restarted := false
	t.Cleanup(func() {
		if !restarted {
			_ = waitForGateway(startManager())
		}
	})
	g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(ext), ext)).To(gomega.Succeed())
	meta.SetStatusCondition(&ext.Status.Conditions, metav1.Condition{
		Type: jetwayv1.ConditionAppReady, Status: metav1.ConditionFalse, Reason: jetwayv1.ReasonAppNameTaken,
		Message: "Fly app name " + app + " is taken by another organization", ObservedGeneration: ext.Generation,
	})
	g.Expect(k8s.Status().Update(ctx, ext)).To(gomega.Succeed())
	g.Expect(k8s.Delete(ctx, ext)).To(gomega.Succeed())
	restarted = true
	g.Expect(waitForGateway(startManager())).To(gomega.Succeed())

	g.Eventually(func() bool {
		err := k8s.Get(ctx, client.ObjectKeyFromObject(ext), &jetwayv1.Extension{})
		return apierrors.IsNotFound(err)
	}).Should(gomega.BeTrue(), "the Extension was never torn down")
	for _, a := range sim.Apps() {
		g.Expect(a.Name).NotTo(gomega.Equal(app), "the deleted extension's Fly app is still there, with %d machine(s)", len(sim.Machines(app)))
	}
}

// TestLateCreateAfterTeardownIsSwept: a CreateApp a killed manager sent
// before the extension was deleted lands after the teardown saw 404 and
// removed the finalizer. Nothing on the extension's path will look at that
// app again; the orphan sweeper must, proving ownership by the extension's
// tombstone (the app has no machines or secrets to prove it) and counting
// the grace period from the recorded deletion, so a restart does not
// start it anew.
func TestLateCreateAfterTeardownIsSwept(t *testing.T) {
	g := newG(t)
	ctx := ctxFor(t)
	id := uniqueID("late-create")
	provision(t, provisionRequest(id, "late-"+id, uniqueID("org")))
	waitReady(t, id)
	resp, err := flyAPI.Delete(ctx, id)
	g.Expect(err).NotTo(gomega.HaveOccurred())
	g.Expect(resp.StatusCode).To(gomega.Equal(http.StatusAccepted), "body: %s", resp.Body)
	g.Eventually(func(g gomega.Gomega) {
		resp, err := flyAPI.Delete(ctx, id)
		g.Expect(err).NotTo(gomega.HaveOccurred())
		g.Expect(resp.StatusCode).To(gomega.Equal(http.StatusOK))
	}).Should(gomega.Succeed())

	// The dead manager's request lands now.
	app := appName(id)
	_, err = lateRequests(t).CreateApp(ctx, app, app)
	g.Expect(err).NotTo(gomega.HaveOccurred())

	// A manager with the sweeper on, restarted (as after a crash) once the
	// grace period has passed since the deletion: it has never seen the
	// orphan before, and must still remove it at its first sweep.
	withSweeper(t, sweepers.OrphanSettings{Interval: time.Second, GracePeriod: 3 * time.Second})
	g.Eventually(func() []string {
		var names []string
		for _, a := range sim.Apps() {
			names = append(names, a.Name)
		}
		return names
	}).WithTimeout(30*time.Second).ShouldNot(gomega.ContainElement(app), "the orphan sweeper left the late-created app")
}

// lateRequests is a Fly client like the manager's: what it sends plays a
// request a killed manager sent, landing now.
func lateRequests(t *testing.T) flyclient.Client {
	t.Helper()
	c, err := flyclient.New(ctxFor(t), currentOptions.Fly)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// withSweeper restarts the manager with the orphan sweeper on, and back
// without it when the test ends.
func withSweeper(t *testing.T, s sweepers.OrphanSettings) {
	t.Helper()
	saved := currentOptions
	currentOptions.Sweeper = s
	restartManager(t)
	t.Cleanup(func() {
		currentOptions = saved
		restartManager(t)
	})
}
