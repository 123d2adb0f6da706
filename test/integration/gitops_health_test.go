package integration

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/watch"
	kstatus "sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/controller-runtime/pkg/client"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
	"github.com/jetway-dev/jetway/internal/billing"
	"github.com/jetway-dev/jetway/internal/domain"
	"github.com/jetway-dev/jetway/internal/manager"
)

// gitopsHealth is what the two GitOps tools make of one Extension as read
// from the API server: Argo CD through config/gitops/argocd/health.lua, Flux
// (healthChecks, wait: true) and kubectl-style waits through kstatus.
type gitopsHealth struct {
	argo        string
	argoMessage string
	kstatus     kstatus.Status
}

func healthOf(t testing.TB, u *unstructured.Unstructured) gitopsHealth {
	t.Helper()
	argo, msg := argoHealth(t, u)
	res, err := kstatus.Compute(u)
	if err != nil {
		t.Fatalf("kstatus.Compute(%s): %v", u.GetName(), err)
	}
	return gitopsHealth{argo: argo, argoMessage: msg, kstatus: res.Status}
}

// expectGitOpsHealth reads the Extension at key fresh and checks what Argo
// CD and kstatus make of it.
func expectGitOpsHealth(t testing.TB, key client.ObjectKey, argo string, ks kstatus.Status) gitopsHealth {
	t.Helper()
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(jetwayv1.GroupVersion.WithKind("Extension"))
	if err := k8s.Get(ctxFor(t), key, u); err != nil {
		t.Fatalf("read %s: %v", key, err)
	}
	h := healthOf(t, u)
	if h.argo != argo || h.kstatus != ks {
		phase, _, _ := unstructured.NestedString(u.Object, "status", "phase")
		t.Errorf("%s (phase %q): Argo CD says %s (%s) and kstatus %s; want %s and %s",
			key, phase, h.argo, h.argoMessage, h.kstatus, argo, ks)
	}
	return h
}

// TestGitOpsToolsReadEveryState follows one Extension applied as a GitOps
// pipeline would, from create to gone, and checks every status the
// controller writes on the way as Argo CD (with Jetway's health script) and
// Flux (kstatus) read it: provisioning is Progressing / InProgress, ready is
// Healthy / Current, paused is Suspended for Argo CD, deleting is
// Progressing / Terminating. It also checks that the Extension's Fly
// organization gets its Organization and the provisioning user as member,
// as one Fly created would.
func TestGitOpsToolsReadEveryState(t *testing.T) {
	g := newG(t)
	ctx := ctxFor(t)
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: uniqueID("gitops-health")}}
	g.Expect(k8s.Create(ctx, ns)).To(gomega.Succeed())
	t.Cleanup(func() { _ = k8s.Delete(context.Background(), ns) })

	wc, err := client.NewWithWatch(restConfig, client.Options{Scheme: manager.NewScheme()})
	g.Expect(err).NotTo(gomega.HaveOccurred())
	list := &unstructured.UnstructuredList{}
	list.SetGroupVersionKind(jetwayv1.GroupVersion.WithKind("ExtensionList"))
	w, err := wc.Watch(ctx, list, client.InNamespace(ns.Name))
	g.Expect(err).NotTo(gomega.HaveOccurred())
	defer w.Stop()

	id := uniqueID("gitops-health")
	orgID := uniqueID("org")
	ext := &jetwayv1.Extension{
		ObjectMeta: metav1.ObjectMeta{Name: "cache", Namespace: ns.Name},
		Spec: jetwayv1.ExtensionSpec{ID: id, Name: "cache-" + id, PrimaryRegion: "fra",
			Organization: jetwayv1.OrganizationRef{ID: orgID, Name: "Data team"},
			User:         &jetwayv1.ProvisioningUser{ID: "user-" + id, Email: id + "@customers.fly.example", Role: "admin"}},
	}
	g.Expect(k8s.Create(ctx, ext)).To(gomega.Succeed())
	cleanupExtension(t, id)
	key := client.ObjectKeyFromObject(ext)

	// Every version of the object until it is Ready, as the controller
	// wrote it.
	seen := map[string]int{}
	for ready := false; !ready; {
		u := nextVersion(t, w)
		h := healthOf(t, u)
		phase, _, _ := unstructured.NestedString(u.Object, "status", "phase")
		observed, _, _ := unstructured.NestedInt64(u.Object, "status", "observedGeneration")
		current := observed == u.GetGeneration()
		ready = phase == jetwayv1.PhaseReady && current && readyTrue(u)
		want := gitopsHealth{argo: argoProgressing, kstatus: kstatus.InProgressStatus}
		if ready {
			want = gitopsHealth{argo: argoHealthy, kstatus: kstatus.CurrentStatus}
		}
		if h.argo != want.argo || h.kstatus != want.kstatus {
			t.Errorf("version %s (phase %q, observedGeneration %d of %d): Argo CD %s (%s), kstatus %s; want %s, %s",
				u.GetResourceVersion(), phase, observed, u.GetGeneration(), h.argo, h.argoMessage, h.kstatus, want.argo, want.kstatus)
		}
		seen[phase]++
	}
	t.Logf("versions seen on the way to ready, by phase: %v", seen)
	g.Expect(seen).To(gomega.HaveKey(jetwayv1.PhasePending), "the controller wrote no pending status on the way to ready: %v", seen)

	// An Extension applied by GitOps gets its Organization, with the
	// provisioning user as a member, like one Fly provisioned.
	g.Eventually(func(g gomega.Gomega) {
		org := &jetwayv1.Organization{}
		g.Expect(k8s.Get(ctx, client.ObjectKey{Name: domain.OrganizationName(orgID)}, org)).To(gomega.Succeed())
		g.Expect(org.Spec.ID).To(gomega.Equal(orgID))
		g.Expect(org.Spec.DisplayName).To(gomega.Equal("Data team"))
		g.Expect(org.Spec.Members).To(gomega.ConsistOf(jetwayv1.Member{UserID: "user-" + id, Email: id + "@customers.fly.example", Role: "admin"}))
		g.Expect(meta.IsStatusConditionTrue(org.Status.Conditions, jetwayv1.ConditionReady)).To(gomega.BeTrue())
	}).Should(gomega.Succeed())

	// So Fly's billing pull knows the organization: without it the
	// gateway answers 404 unknown_organization.
	g.Eventually(func() int {
		code, _, _ := billingGet(t, map[string]any{"organization_id": orgID, "from": billing.DateOf(time.Now())})
		return code
	}).Should(gomega.Equal(http.StatusOK))

	// Paused: Argo CD says Suspended; kstatus knows no pause and keeps
	// reading the (frozen) conditions.
	setPaused(t, ext, true)
	expectGitOpsHealth(t, key, argoSuspended, kstatus.CurrentStatus)
	setPaused(t, ext, false)
	expectGitOpsHealth(t, key, argoHealthy, kstatus.CurrentStatus)

	// Deleting: Fly refuses the token for now, so the teardown waits and
	// the controller writes the deleting status for the tools to read.
	sim.SetToken("a-token-jetway-does-not-have")
	defer sim.SetToken(flyToken) // before the cleanups, which need Fly
	g.Expect(k8s.Delete(ctx, ext)).To(gomega.Succeed())
	g.Eventually(func() string {
		cur := &jetwayv1.Extension{}
		_ = k8s.Get(ctx, key, cur)
		return cur.Status.Phase
	}).Should(gomega.Equal(jetwayv1.PhaseDeleting))
	expectGitOpsHealth(t, key, argoProgressing, kstatus.TerminatingStatus)
	sim.SetToken(flyToken)
	g.Eventually(func() bool {
		return apierrors.IsNotFound(k8s.Get(ctx, key, &jetwayv1.Extension{}))
	}).Should(gomega.BeTrue(), "the extension was not torn down once Fly took the token again")
}

// nextVersion waits for the watch's next version of the object.
func nextVersion(t testing.TB, w watch.Interface) *unstructured.Unstructured {
	t.Helper()
	for {
		select {
		case ev, ok := <-w.ResultChan():
			if !ok {
				t.Fatal("the watch ended before the extension was ready")
			}
			if ev.Type != watch.Added && ev.Type != watch.Modified {
				continue
			}
			u, ok := ev.Object.(*unstructured.Unstructured)
			if !ok {
				t.Fatalf("watch sent %T", ev.Object)
			}
			return u
		case <-ctxFor(t).Done():
			t.Fatal("the extension did not become ready in time")
		}
	}
}

func readyTrue(u *unstructured.Unstructured) bool {
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, c := range conds {
		m, _ := c.(map[string]any)
		if m["type"] == jetwayv1.ConditionReady {
			return m["status"] == string(metav1.ConditionTrue)
		}
	}
	return false
}
