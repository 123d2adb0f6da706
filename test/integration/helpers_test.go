package integration

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/onsi/gomega"
	fly "github.com/superfly/fly-go"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	kstatus "sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/controller-runtime/pkg/client"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
	"github.com/jetway-dev/jetway/internal/dev/flyside"
	"github.com/jetway-dev/jetway/internal/dns/externaldns"
	"github.com/jetway-dev/jetway/internal/domain"
	flyclient "github.com/jetway-dev/jetway/internal/fly"
)

// Waits are generous because a loaded 2-core machine runs an API server,
// etcd, the controllers and the tests at once; they end as soon as the
// condition holds.
const (
	waitTimeout = 60 * time.Second
	waitPoll    = 200 * time.Millisecond
)

// newG returns a Gomega bound to t with the suite's wait defaults.
func newG(t testing.TB) *gomega.WithT {
	g := gomega.NewWithT(t)
	g.SetDefaultEventuallyTimeout(waitTimeout)
	g.SetDefaultEventuallyPollingInterval(waitPoll)
	g.SetDefaultConsistentlyDuration(time.Second)
	g.SetDefaultConsistentlyPollingInterval(waitPoll)
	return g
}

// ctxFor bounds one test's calls.
func ctxFor(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// uniqueID makes a Fly-style id (and name) no other test, or another run
// in the same process (-count=N), uses.
func uniqueID(prefix string) string {
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return prefix + "-" + hex.EncodeToString(b)
}

// provisionRequest is a POST body as Fly sends it.
func provisionRequest(id, name, orgID string) map[string]any {
	return map[string]any{
		"id":                id,
		"name":              name,
		"organization_id":   orgID,
		"organization_name": "Org " + orgID,
		"user_id":           "user-" + orgID,
		"user_email":        "alias-" + orgID + "@customer.fly.io",
		"user_role":         "admin",
		"primary_region":    "iad",
	}
}

// appName is the Fly app an extension runs in.
func appName(flyID string) string { return domain.AppName(appPrefix, flyID) }

// jsonBody decodes a gateway answer into a generic map.
func jsonBody(t testing.TB, resp *flyside.Response) map[string]any {
	t.Helper()
	var out map[string]any
	if err := json.Unmarshal(resp.Body, &out); err != nil {
		t.Fatalf("HTTP %d answer is not a JSON object: %v\n%s", resp.StatusCode, err, resp.Body)
	}
	return out
}

// expectError checks a JSON error answer's status and stable code.
func expectError(t testing.TB, resp *flyside.Response, err error, status int, code string) {
	t.Helper()
	if err != nil {
		t.Fatalf("request failed: %v", err)
	}
	if resp.StatusCode != status {
		t.Fatalf("status = %d, want %d (%s); body: %s", resp.StatusCode, status, code, resp.Body)
	}
	body := jsonBody(t, resp)
	if body["error"] != code {
		t.Fatalf("error code = %v, want %q; body: %s", body["error"], code, resp.Body)
	}
	if msg, _ := body["message"].(string); msg == "" {
		t.Fatalf("error answer has no readable message: %s", resp.Body)
	}
}

// send sends a prepared request to the gateway.
func send(t testing.TB, req *http.Request) *flyside.Response {
	t.Helper()
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read answer: %v", err)
	}
	return &flyside.Response{StatusCode: resp.StatusCode, Body: data}
}

// rawRequest builds a request with exactly body and, unless empty, the
// given X-Signature: for tampering the Fly-side client would not do.
func rawRequest(t testing.TB, method, path string, body []byte, signature string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, gatewayURL+basePath+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if signature != "" {
		req.Header.Set("X-Signature", signature)
	}
	return req
}

// findExtension finds the Extension with Fly id flyID in any namespace, or nil.
func findExtension(ctx context.Context, flyID string) (*jetwayv1.Extension, error) {
	var list jetwayv1.ExtensionList
	if err := k8s.List(ctx, &list); err != nil {
		return nil, err
	}
	for i := range list.Items {
		if list.Items[i].Spec.ID == flyID {
			return &list.Items[i], nil
		}
	}
	return nil, nil
}

// waitReady waits until the Extension with Fly id flyID is Ready for its
// current generation, checks the kstatus invariants, and returns it.
func waitReady(t testing.TB, flyID string) *jetwayv1.Extension {
	t.Helper()
	g := newG(t)
	ctx := ctxFor(t)
	var ext *jetwayv1.Extension
	g.Eventually(func(g gomega.Gomega) {
		var err error
		ext, err = findExtension(ctx, flyID)
		g.Expect(err).NotTo(gomega.HaveOccurred())
		g.Expect(ext).NotTo(gomega.BeNil(), "extension %s does not exist", flyID)
		g.Expect(meta.IsStatusConditionTrue(ext.Status.Conditions, jetwayv1.ConditionReady)).To(gomega.BeTrue(),
			"extension %s is not Ready: phase %q, conditions %+v", flyID, ext.Status.Phase, ext.Status.Conditions)
		g.Expect(ext.Status.ObservedGeneration).To(gomega.Equal(ext.Generation), "Ready for an older generation")
	}).Should(gomega.Succeed())
	checkKstatus(t, client.ObjectKeyFromObject(ext))
	return ext
}

// checkKstatus reads the Extension fresh, as Flux, Argo CD or `kubectl wait`
// would, and checks that its conditions tell one consistent story to
// kstatus: Ready means Current for this generation, Stalled means Failed,
// Reconciling means InProgress, and Reconciling and Stalled never hold at
// once.
func checkKstatus(t testing.TB, key client.ObjectKey) {
	t.Helper()
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(jetwayv1.GroupVersion.WithKind("Extension"))
	if err := k8s.Get(ctxFor(t), key, u); err != nil {
		t.Fatalf("read %s for kstatus: %v", key, err)
	}
	ext := &jetwayv1.Extension{}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, ext); err != nil {
		t.Fatalf("convert %s: %v", key, err)
	}
	res, err := kstatus.Compute(u)
	if err != nil {
		t.Fatalf("kstatus.Compute(%s): %v", key, err)
	}
	conds := ext.Status.Conditions
	ready := meta.IsStatusConditionTrue(conds, jetwayv1.ConditionReady)
	reconciling := meta.IsStatusConditionTrue(conds, jetwayv1.ConditionReconciling)
	stalled := meta.IsStatusConditionTrue(conds, jetwayv1.ConditionStalled)
	if meta.FindStatusCondition(conds, jetwayv1.ConditionReady) == nil {
		t.Errorf("%s has no Ready condition: %+v", key, conds)
	}
	if reconciling && stalled {
		t.Errorf("%s is both Reconciling and Stalled: %+v", key, conds)
	}
	for _, c := range conds {
		if c.ObservedGeneration > ext.Generation {
			t.Errorf("%s condition %s observed generation %d > generation %d", key, c.Type, c.ObservedGeneration, ext.Generation)
		}
	}
	switch {
	case ready:
		if res.Status != kstatus.CurrentStatus {
			t.Errorf("%s is Ready but kstatus says %s: %s", key, res.Status, res.Message)
		}
		if ext.Status.ObservedGeneration != ext.Generation {
			t.Errorf("%s is Ready but observedGeneration %d != generation %d", key, ext.Status.ObservedGeneration, ext.Generation)
		}
		if reconciling || stalled {
			t.Errorf("%s is Ready but also Reconciling=%v Stalled=%v", key, reconciling, stalled)
		}
		if ext.Status.Phase != jetwayv1.PhaseReady {
			t.Errorf("%s is Ready but Fly would see status %q", key, ext.Status.Phase)
		}
	case stalled:
		if res.Status != kstatus.FailedStatus {
			t.Errorf("%s is Stalled but kstatus says %s", key, res.Status)
		}
	case reconciling:
		if res.Status != kstatus.InProgressStatus {
			t.Errorf("%s is Reconciling but kstatus says %s", key, res.Status)
		}
	}
}

// liveMachines are the extension's machines on Fly that are neither
// destroyed nor being destroyed, found by ownership metadata.
func liveMachines(flyID string) []fly.Machine {
	var out []fly.Machine
	for _, m := range sim.Machines(appName(flyID)) {
		if m.State == fly.MachineStateDestroying || m.State == fly.MachineStateDestroyed {
			continue
		}
		if m.Config != nil && m.Config.Metadata[flyclient.MetaExtension] == flyID {
			out = append(out, m)
		}
	}
	return out
}

// placement summarizes machines as "role/region" → id.
func placement(ms []fly.Machine) map[string]string {
	out := map[string]string{}
	for _, m := range ms {
		out[m.Config.Metadata[flyclient.MetaRole]+"/"+m.Config.Metadata[flyclient.MetaRegion]] = m.ID
	}
	return out
}

// keys returns a placement's "role/region" keys.
func keys(p map[string]string) []string {
	out := make([]string, 0, len(p))
	for k := range p {
		out = append(out, k)
	}
	return out
}

// dnsEndpointOf reads the extension's DNSEndpoint.
func dnsEndpointOf(ctx context.Context, ext *jetwayv1.Extension) (*externaldns.DNSEndpoint, error) {
	ep := &externaldns.DNSEndpoint{}
	err := k8s.Get(ctx, client.ObjectKey{Namespace: ext.Namespace, Name: domain.DNSEndpointName(ext.Name)}, ep)
	return ep, err
}

// counts is what a rejected request must not change.
type counts struct {
	Extensions int
	Apps       int
	Machines   int
}

func currentCounts(t testing.TB) counts {
	t.Helper()
	var list jetwayv1.ExtensionList
	if err := k8s.List(ctxFor(t), &list); err != nil {
		t.Fatal(err)
	}
	return counts{Extensions: len(list.Items), Apps: len(sim.Apps()), Machines: len(sim.AllMachines())}
}

// provision POSTs a request through the gateway, expects 201, and registers
// a cleanup that deletes the extension and waits until it is gone.
func provision(t testing.TB, req map[string]any) map[string]any {
	t.Helper()
	id := req["id"].(string)
	resp, err := flyAPI.Create(ctxFor(t), req)
	// A plan the test has just created may not be in the gateway's cache
	// yet: give the cache a few seconds before taking the refusal.
	for tries := 0; err == nil && resp.StatusCode == http.StatusUnprocessableEntity &&
		strings.Contains(string(resp.Body), "unknown_plan") && tries < 50; tries++ {
		time.Sleep(100 * time.Millisecond)
		resp, err = flyAPI.Create(ctxFor(t), req)
	}
	if err != nil {
		t.Fatalf("POST %s: %v", id, err)
	}
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST %s: status %d, want 201; body: %s", id, resp.StatusCode, resp.Body)
	}
	cleanupExtension(t, id)
	return jsonBody(t, resp)
}

// cleanupExtension deletes the extension at the end of the test (if it is
// still there) and waits until Jetway has torn it down, so later tests
// start from a quiet system.
func cleanupExtension(t testing.TB, flyID string) {
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout+10*time.Second)
		defer cancel()
		ext, err := findExtension(ctx, flyID)
		if err != nil {
			t.Errorf("cleanup %s: %v", flyID, err)
			return
		}
		if ext == nil {
			return
		}
		if err := client.IgnoreNotFound(k8s.Delete(ctx, ext)); err != nil {
			t.Errorf("cleanup %s: delete: %v", flyID, err)
			return
		}
		newG(t).Eventually(func() (*jetwayv1.Extension, error) {
			return findExtension(ctx, flyID)
		}).Should(gomega.BeNil(), "cleanup: extension %s was not torn down", flyID)
	})
}

// mustJSON marshals v or fails the test.
func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// machineEnv is one environment variable of each of the extension's
// machines.
func machineEnv(flyID, name string) []string {
	var out []string
	for _, m := range liveMachines(flyID) {
		out = append(out, m.Config.Env[name])
	}
	return out
}
