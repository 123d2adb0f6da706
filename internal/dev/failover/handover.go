package failover

import (
	"context"
	"fmt"
	"io"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
	"github.com/jetway-dev/jetway/internal/dev/devstack"
)

// Cluster is the managers taking turns to lead, the API server they share
// and the extension whose spec each handover changes.
type Cluster struct {
	K8s       client.Client
	Managers  []*devstack.ManagerProcess
	Extension client.ObjectKey
	// Progress receives a line per handover; nil is quiet.
	Progress io.Writer
}

// How is the way a leader is stopped.
type How int

const (
	// Kill is SIGKILL: a node failure or an OOM kill; the lease is not
	// released, so a standby must wait for it to run out.
	Kill How = iota
	// Terminate is SIGTERM, as the kubelet stops a pod in a rollout: the
	// manager drains and releases the lease.
	Terminate
)

func (h How) String() string {
	if h == Terminate {
		return "SIGTERM"
	}
	return "SIGKILL"
}

// Handover is one stopped leader and its successor.
type Handover struct {
	From, To int
	// Took is from the signal until another process reconciled the change;
	// Exited is from the signal until the old leader's process was gone.
	Took, Exited time.Duration
}

// Handover stops the current leader the way how says and changes the
// extension's spec once the old leader is gone, so only another process
// can reconcile it; it waits up to timeout for that, then starts the
// stopped process again and waits for its gateway. Round k picks the
// change.
func (c *Cluster) Handover(ctx context.Context, how How, k int, timeout time.Duration) (Handover, error) {
	var h Handover
	leader, err := devstack.WaitLeader(ctx, c.Managers, time.Minute)
	if err != nil {
		return h, err
	}
	h.From = leader
	if c.Progress != nil {
		fmt.Fprintf(c.Progress, "failover: %s the leader (manager %d)\n", how, leader)
	}
	m := c.Managers[leader]
	start := time.Now()
	if how == Terminate {
		err = m.Terminate(time.Minute)
	} else {
		err = m.Kill()
	}
	if err != nil {
		return h, err
	}
	h.Exited = time.Since(start)
	gen, err := ChangeSpec(ctx, c.K8s, c.Extension, k)
	if err != nil {
		return h, err
	}
	if err := WaitObserved(ctx, c.K8s, c.Extension, gen, timeout); err != nil {
		return h, fmt.Errorf("after the %s of manager %d: %w", how, leader, err)
	}
	h.Took = time.Since(start)
	if h.To, err = devstack.WaitLeader(ctx, c.Managers, time.Minute); err != nil {
		return h, err
	}
	if err := m.Start(); err != nil {
		return h, err
	}
	return h, m.WaitGateway(ctx, 2*time.Minute)
}

// FindExtension is the key of the extension Fly knows by id.
func FindExtension(ctx context.Context, k8s client.Client, id string) (client.ObjectKey, error) {
	var list jetwayv1.ExtensionList
	if err := k8s.List(ctx, &list); err != nil {
		return client.ObjectKey{}, err
	}
	for i := range list.Items {
		if list.Items[i].Spec.ID == id {
			return client.ObjectKeyFromObject(&list.Items[i]), nil
		}
	}
	return client.ObjectKey{}, fmt.Errorf("extension %s not found", id)
}

// ChangeSpec makes round k's change, toggling a read region, and returns
// the generation it made.
func ChangeSpec(ctx context.Context, k8s client.Client, key client.ObjectKey, k int) (int64, error) {
	cur := &jetwayv1.Extension{}
	if err := k8s.Get(ctx, key, cur); err != nil {
		return 0, err
	}
	patch := client.MergeFrom(cur.DeepCopy())
	cur.Spec.ReadRegions = []string{}
	if k%2 == 0 {
		cur.Spec.ReadRegions = []string{"syd"}
	}
	if err := k8s.Patch(ctx, cur, patch); err != nil {
		return 0, fmt.Errorf("change %s: %w", key.Name, err)
	}
	return cur.Generation, nil
}

// WaitObserved waits until a pass has acted on generation gen.
func WaitObserved(ctx context.Context, k8s client.Client, key client.ObjectKey, gen int64, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		cur := &jetwayv1.Extension{}
		if err := k8s.Get(ctx, key, cur); err == nil && cur.Status.ObservedGeneration >= gen {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	return fmt.Errorf("generation %d of %s not reconciled within %s", gen, key.Name, timeout)
}
