package integration

import (
	"strings"
	"testing"
	"time"

	"github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
	"github.com/jetway-dev/jetway/internal/dev/flysim"
)

func phaseOf(t *testing.T, id string) func() string {
	return func() string {
		ext, _ := findExtension(ctxFor(t), id)
		if ext == nil {
			return ""
		}
		return ext.Status.Phase
	}
}

// eventsAbout lists the Kubernetes Events recorded on an extension, as
// "Type Reason: note".
func eventsAbout(t *testing.T, ext *jetwayv1.Extension) []string {
	var list eventsv1.EventList
	if err := k8s.List(ctxFor(t), &list, client.InNamespace(ext.Namespace)); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range list.Items {
		if e.Regarding.Name == ext.Name {
			out = append(out, e.Type+" "+e.Reason+": "+e.Note)
		}
	}
	return out
}

// TestSleepingAndWaking: under a plan whose machines Fly's proxy stops when
// idle, Fly's machine events turn the status word to "sleeping" (Ready
// stays True) and, when traffic wakes a machine, back to "ready"; Fly hears
// both by webhook.
func TestSleepingAndWaking(t *testing.T) {
	g := newG(t)
	id := uniqueID("sleepy")
	req := provisionRequest(id, "sleepy-"+id, uniqueID("org"))
	req["plan"] = sleepyPlan
	provision(t, req)

	g.Eventually(phaseOf(t, id)).Should(gomega.Equal(jetwayv1.PhaseSleeping), "the idle machine was stopped by the proxy")
	ext, _ := findExtension(ctxFor(t), id)
	g.Expect(ext.Status.Conditions).To(gomega.ContainElement(gomega.And(
		gomega.HaveField("Type", jetwayv1.ConditionReady), gomega.HaveField("Status", gomega.BeEquivalentTo("True")))),
		"asleep is still Ready: it wakes on traffic")
	g.Eventually(func() []string { return delivered(id) }).Should(gomega.ContainElement("resource.updated:sleeping"))

	started, err := sim.Traffic(ext.Status.AppName)
	g.Expect(err).NotTo(gomega.HaveOccurred())
	g.Expect(started).NotTo(gomega.BeEmpty())
	g.Eventually(phaseOf(t, id)).Should(gomega.Equal(jetwayv1.PhaseReady))
	g.Eventually(func() []string { return delivered(id) }).Should(gomega.ContainElements(
		"resource.updated:sleeping", "resource.updated:ready"))
	got := delivered(id)
	for i := 1; i < len(got); i++ {
		g.Expect(got[i]).NotTo(gomega.Equal(got[i-1]), "no state is announced twice in a row: %v", got)
	}
}

// TestFailedMachineShowsInEvents: a machine that crashes is reported by Fly;
// the extension records it as a Warning event and starts the machine again.
func TestFailedMachineShowsInEvents(t *testing.T) {
	g := newG(t)
	id := uniqueID("crash")
	provision(t, provisionRequest(id, "crash-"+id, uniqueID("org")))
	ready := waitReady(t, id)

	sim.SetFaults(flysim.Faults{Seed: 11, CrashRate: 1})
	defer sim.SetFaults(flysim.Faults{}) // before the cleanups, which need Fly
	// Crashes strike machines as they start: destroy the machine out of
	// band, and the one Jetway creates in its place crashes.
	g.Expect(sim.DestroyMachineOutOfBand(ready.Status.AppName, ready.Status.Machines[0].ID)).To(gomega.Succeed())
	g.Eventually(func() []string { return eventsAbout(t, ready) }, 60*time.Second).Should(gomega.ContainElement(
		gomega.And(gomega.HavePrefix("Warning MachineEvent"), gomega.ContainSubstring("failed"))))
	sim.SetFaults(flysim.Faults{})
	g.Eventually(func() []string { return eventsAbout(t, ready) }).Should(gomega.ContainElement(
		gomega.HavePrefix("Warning " + jetwayv1.ReasonMachineRestarted)))
	waitReady(t, id)
	creds := &corev1.Secret{}
	g.Expect(k8s.Get(ctxFor(t), client.ObjectKey{Namespace: ready.Namespace, Name: ready.Status.CredentialsSecret}, creds)).To(gomega.Succeed())
	password := string(creds.Data["password"])
	g.Expect(password).NotTo(gomega.BeEmpty())
	for _, e := range eventsAbout(t, ready) {
		g.Expect(strings.Contains(e, password)).To(gomega.BeFalse(), "events never carry the credentials: %s", e)
	}
}
