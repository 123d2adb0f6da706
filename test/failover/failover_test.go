// Package failover tests leader election across real manager processes:
// three `jetway manager`s against one API server and Fly (flysim), the
// leader SIGKILLed again and again and once stopped gracefully, while
// signed traffic goes to the gateways. The timings are make bench's (P8,
// P8g); here the bounds are generous and what must hold is that another
// process always takes over and no Fly call gets a 5xx.
package failover

import (
	"context"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
	"github.com/jetway-dev/jetway/internal/dev/devstack"
	"github.com/jetway-dev/jetway/internal/dev/failover"
	"github.com/jetway-dev/jetway/internal/dev/flyside"
	"github.com/jetway-dev/jetway/internal/dev/flysim"
	"github.com/jetway-dev/jetway/internal/dev/testbin"
)

const (
	kills = 10
	// bound is how long a handover may take here: several times the lease
	// (6 s), so only a handover that does not happen fails.
	bound = 30 * time.Second
)

func TestLeaderFailover(t *testing.T) {
	ctrllog.SetLogger(logr.Discard())
	assets := os.Getenv("KUBEBUILDER_ASSETS")
	if assets == "" {
		t.Fatal("KUBEBUILDER_ASSETS is not set: run `make test`, which builds the control plane and sets it")
	}
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()

	cp, err := devstack.StartControlPlane(assets, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cp.Stop() }()
	kubeconfig := filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(kubeconfig, cp.Kubeconfig, 0o600); err != nil {
		t.Fatal(err)
	}
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	if err := jetwayv1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	k8s, err := client.New(cp.Config, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	if err := devstack.InstallDefaultPlan(ctx, k8s); err != nil {
		t.Fatal(err)
	}

	token, secret := devstack.RandomSecret(), devstack.RandomSecret()
	sim := flysim.New(flysim.Options{Token: token, OrgSlug: "jetway-failover", BootTime: 300 * time.Millisecond})
	defer sim.Close()
	simLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	simSrv := &http.Server{Handler: sim, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = simSrv.Serve(simLn) }()
	defer simSrv.Close()

	managers, err := devstack.Replicas{
		Count: 3, Bin: testbin.Jetway(t), Kubeconfig: kubeconfig,
		FlyURL: "http://" + simLn.Addr().String(), FlyToken: token, FlyOrg: "jetway-failover", Secret: secret,
		Dir: dir,
	}.New()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range managers {
		defer func() { _ = m.Stop() }()
		if err := m.Start(); err != nil {
			t.Fatal(err)
		}
	}
	for _, m := range managers {
		if err := m.WaitGateway(ctx, 2*time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	defer func() {
		if t.Failed() {
			for _, m := range managers {
				t.Logf("last lines of %s:\n%s", m.LogPath, testbin.LogTail(m.LogPath, 30))
			}
		}
	}()

	fly := &flyside.Client{BaseURL: managers[0].GatewayURL(), Secret: []byte(secret)}
	resp, err := fly.Create(ctx, map[string]any{
		"id": "failover-1", "name": "failover-1", "organization_id": "failover-org", "user_id": "user-1",
		"user_role": "admin", "primary_region": "iad", "read_regions": []string{},
	})
	if err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("provision: %v %+v", err, resp)
	}
	var key client.ObjectKey
	for key.Name == "" && ctx.Err() == nil {
		key, _ = failover.FindExtension(ctx, k8s, "failover-1")
		time.Sleep(50 * time.Millisecond)
	}
	if err := failover.WaitObserved(ctx, k8s, key, 1, bound); err != nil {
		t.Fatal(err)
	}

	traffic := &failover.Traffic{Managers: managers, Secret: []byte(secret), Rate: 10, Prefix: "failover-traffic"}
	traffic.Start(ctx)
	c := &failover.Cluster{K8s: k8s, Managers: managers, Extension: key, Progress: testWriter{t}}
	leaders := map[int]bool{}
	for k := range kills {
		h, err := c.Handover(ctx, failover.Kill, k, bound)
		if err != nil {
			traffic.Stop()
			t.Fatalf("kill %d: %v", k+1, err)
		}
		leaders[h.To] = true
		t.Logf("kill %d: manager %d → %d, reconciled after %s", k+1, h.From, h.To, h.Took.Round(time.Millisecond))
	}
	h, err := c.Handover(ctx, failover.Terminate, kills, bound)
	rep := traffic.Stop()
	if err != nil {
		t.Fatalf("graceful stop: %v", err)
	}
	t.Logf("SIGTERM: manager %d exited after %s, manager %d reconciled after %s", h.From, h.Exited.Round(time.Millisecond), h.To, h.Took.Round(time.Millisecond))
	t.Logf("traffic: %d sent, %d answered, %d 5xx, %d unanswered, %d resent to another gateway", rep.Sent, rep.Answered, rep.ServerErrors, rep.Unanswered, rep.Retried)

	if rep.ServerErrors > 0 || rep.Unanswered > 0 {
		t.Errorf("%d answers were 5xx and %d requests reached no gateway, e.g. %q", rep.ServerErrors, rep.Unanswered, rep.Samples)
	}
	if rep.Answered < 10*kills {
		t.Errorf("only %d requests were answered: the traffic did not flow through the handovers", rep.Answered)
	}
	if rep.Retried == 0 {
		t.Errorf("no request had to be resent: the traffic never met a stopped gateway, so it tested nothing")
	}
	if len(leaders) < 2 {
		t.Errorf("the lead only ever went to manager(s) %v", leaders)
	}
	for i, m := range managers {
		if u := m.Unexpected(); len(u) > 0 {
			t.Errorf("manager %d exited without being stopped (lost its lease?): %v", i, u)
		}
	}
}

// jetwayBin is $JETWAY_BIN (the Makefile's bin/jetway), else a fresh build.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
