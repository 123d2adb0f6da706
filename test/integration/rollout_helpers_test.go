package integration

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/onsi/gomega"
	fly "github.com/superfly/fly-go"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
	flyclient "github.com/jetway-dev/jetway/internal/fly"
)

// rolloutPlan makes a plan of its own for a rollout test, with a tcp check
// on its service and a short health timeout; edit adjusts it.
func rolloutPlan(t *testing.T, edit func(*jetwayv1.ExtensionPlanSpec)) *jetwayv1.ExtensionPlan {
	t.Helper()
	spec := jetwayv1.ExtensionPlanSpec{
		Image: standardImage,
		Services: []jetwayv1.ServiceSpec{{Protocol: "tcp", InternalPort: 5432, Ports: []jetwayv1.PortSpec{{Port: 5432}},
			Checks: []jetwayv1.CheckSpec{{Type: "tcp", Interval: &metav1.Duration{Duration: time.Second},
				GracePeriod: &metav1.Duration{Duration: 300 * time.Millisecond}}}}},
		Rollout:    &jetwayv1.RolloutSpec{HealthTimeoutSeconds: ptr.To[int32](8)},
		Connection: jetwayv1.ConnectionSpec{Config: map[string]string{"LOGJAM_URL": connTemplate}, Port: 5432},
	}
	if edit != nil {
		edit(&spec)
	}
	plan := &jetwayv1.ExtensionPlan{ObjectMeta: metav1.ObjectMeta{Name: uniqueID("roll")}, Spec: spec}
	if err := k8s.Create(ctxFor(t), plan); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = k8s.Delete(context.Background(), plan) })
	return plan
}

// editPlan changes a plan, retrying on conflicts.
func editPlan(t *testing.T, name string, edit func(*jetwayv1.ExtensionPlanSpec)) {
	t.Helper()
	newG(t).Eventually(func() error {
		cur := &jetwayv1.ExtensionPlan{}
		if err := k8s.Get(ctxFor(t), client.ObjectKey{Name: name}, cur); err != nil {
			return err
		}
		edit(&cur.Spec)
		return k8s.Update(ctxFor(t), cur)
	}).Should(gomega.Succeed())
}

// machineSample is one look at an app's machines.
type machineSample struct {
	at       time.Time
	machines []fly.Machine
}

// machineWatch samples an app's machines on flysim every few milliseconds,
// so a test can check what held at every moment of a rollout, not only
// at its end.
type machineWatch struct {
	mu      sync.Mutex
	samples []machineSample
	stop    chan struct{}
	done    chan struct{}
}

func watchMachines(t *testing.T, app string) *machineWatch {
	w := &machineWatch{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-w.stop:
				return
			case <-tick.C:
				ms := sim.Machines(app)
				w.mu.Lock()
				w.samples = append(w.samples, machineSample{at: time.Now(), machines: ms})
				w.mu.Unlock()
			}
		}
	}()
	t.Cleanup(w.end)
	return w
}

// end stops sampling; it may be called more than once.
func (w *machineWatch) end() {
	select {
	case <-w.stop:
	default:
		close(w.stop)
	}
	<-w.done
}

// firstOn is the order in which machines were first seen on image, by role
// and region ("replica/syd").
func (w *machineWatch) firstOn(image string) []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	seen := map[string]bool{}
	var order []string
	for _, s := range w.samples {
		for _, m := range s.machines {
			if m.Config == nil || m.Config.Image != image || seen[m.ID] {
				continue
			}
			seen[m.ID] = true
			order = append(order, m.Config.Metadata[flyclient.MetaRole]+"/"+m.Config.Metadata[flyclient.MetaRegion])
		}
	}
	return order
}

// mostOutOfService is the largest number of machines seen at one moment
// that were not serving: not started, or started with a check not
// passing.
func (w *machineWatch) mostOutOfService() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	most := 0
	for _, s := range w.samples {
		out := 0
		for _, m := range s.machines {
			if m.State != fly.MachineStateStarted || !allPassing(m) {
				out++
			}
		}
		most = max(most, out)
	}
	return most
}

func allPassing(m fly.Machine) bool {
	for _, c := range m.Checks {
		if c.Status != fly.Passing {
			return false
		}
	}
	return true
}

// expectRollout checks ext's RolledOut condition's state and its progress.
func expectRollout(g gomega.Gomega, ext *jetwayv1.Extension, state, progress string) {
	c := meta.FindStatusCondition(ext.Status.Conditions, jetwayv1.ConditionRolledOut)
	g.Expect(c).NotTo(gomega.BeNil(), "RolledOut condition")
	g.Expect(c.Reason).To(gomega.Equal(state), "rollout: %s", c.Message)
	g.Expect(ext.Status.Rollout).NotTo(gomega.BeNil())
	g.Expect(ext.Status.Rollout.Progress).To(gomega.HaveValue(gomega.Equal(progress)))
}
