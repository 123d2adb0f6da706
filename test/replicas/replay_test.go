package replicas

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/onsi/gomega"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
)

// captured is a signed request as it went over the wire once, to be sent
// again, byte for byte, to any replica.
type captured struct {
	method string
	target *url.URL
	body   []byte
	header http.Header
}

func (c *cluster) capture(t *testing.T, method, path string, body map[string]any) captured {
	t.Helper()
	req, err := c.fly.SignedRequest(context.Background(), method, path, body)
	if err != nil {
		t.Fatal(err)
	}
	var raw []byte
	if req.Body != nil {
		raw, _ = io.ReadAll(req.Body)
	}
	return captured{method: method, target: req.URL, body: raw, header: req.Header}
}

// answer is a replica's reply: the status and the body's error code.
type answer struct {
	status int
	code   string
}

// sendTo sends the captured bytes to replica i, as the Service in front of
// the replicas would route them there.
func (c *cluster) sendTo(t *testing.T, i int, req captured) answer {
	t.Helper()
	u := *req.target
	u.Host = c.managers[i].GatewayAddr
	r, err := http.NewRequest(req.method, u.String(), bytes.NewReader(req.body))
	if err != nil {
		t.Fatal(err)
	}
	r.Header = req.header.Clone()
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatalf("%s %s to replica %d: %v", req.method, u.Path, i, err)
	}
	defer resp.Body.Close()
	var body struct {
		Error string `json:"error"`
	}
	raw, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(raw, &body)
	return answer{status: resp.StatusCode, code: body.Error}
}

var replayed = answer{status: http.StatusUnauthorized, code: "replayed_nonce"}

// TestARequestReplayedToAnyReplicaChangesNothing: three real managers
// behind one URL. Each captured request is replayed to every replica,
// the one that took it included, and must change nothing: no revert, no
// second delete, no re-provisioning after the delete, no extra webhook.
func TestARequestReplayedToAnyReplicaChangesNothing(t *testing.T) {
	c := startCluster(t, 3)
	g := gomega.NewWithT(t)
	const id = "replayed-ext"

	create := c.capture(t, http.MethodPost, "/extensions", map[string]any{
		"id": id, "name": "replayed", "organization_id": "org-replay", "organization_name": "Replay Org",
		"user_id": "user-1", "user_email": "user@example.com", "primary_region": "ams", "read_regions": []string{},
	})
	if got := c.sendTo(t, 0, create); got.status != http.StatusCreated && got.status != http.StatusAccepted {
		t.Fatalf("POST to replica 0: %+v", got)
	}
	c.expectReplayedEverywhere(t, create)
	c.waitReady(t, g, id)

	// The hole issue 16 found: a PATCH, a later PATCH, then the first
	// replayed to another replica reverted the later one.
	first := c.capture(t, http.MethodPatch, "/extensions/"+id, map[string]any{"read_regions": []string{"syd"}})
	later := c.capture(t, http.MethodPatch, "/extensions/"+id, map[string]any{"read_regions": []string{"fra"}})
	for _, req := range []captured{first, later} {
		if got := c.sendTo(t, 0, req); got.status != http.StatusOK {
			t.Fatalf("PATCH to replica 0: %+v", got)
		}
	}
	c.expectReplayedEverywhere(t, first)
	c.expectReplayedEverywhere(t, later)
	if regions := c.spec(t, id).ReadRegions; !slices.Equal(regions, []string{"fra"}) {
		t.Fatalf("read regions after the replays: %v, want the later change [fra]", regions)
	}

	// One request reaching every replica at once (a retrying proxy, or an
	// attacker racing Fly): exactly one serves it.
	racing := c.capture(t, http.MethodPatch, "/extensions/"+id, map[string]any{"read_regions": []string{}})
	answers := make([]answer, len(c.managers))
	var wg sync.WaitGroup
	for i := range c.managers {
		wg.Add(1)
		go func() { defer wg.Done(); answers[i] = c.sendTo(t, i, racing) }()
	}
	wg.Wait()
	served := 0
	for i, a := range answers {
		switch a {
		case answer{status: http.StatusOK}:
			served++
		case replayed:
		default:
			t.Fatalf("replica %d answered the racing PATCH with %+v", i, a)
		}
	}
	if served != 1 {
		t.Fatalf("%d replicas served one request sent to all at once: %+v", served, answers)
	}
	c.waitReady(t, g, id)

	del := c.capture(t, http.MethodDelete, "/extensions/"+id, nil)
	if got := c.sendTo(t, 1, del); got.status != http.StatusAccepted {
		t.Fatalf("DELETE to replica 1: %+v", got)
	}
	c.expectReplayedEverywhere(t, del)
	g.Eventually(func() int { return len(c.extensions(t)) }, 90*time.Second, 200*time.Millisecond).Should(gomega.Equal(0))

	// After the delete finished, nothing on the cluster holds the
	// extension: a replayed POST must not bring it back.
	c.expectReplayedEverywhere(t, create)
	c.expectReplayedEverywhere(t, del)
	g.Consistently(func() int { return len(c.extensions(t)) }, 2*time.Second, 200*time.Millisecond).Should(gomega.Equal(0))

	// Fly heard each change once: ready, then deleted.
	g.Eventually(func() []string { return c.delivered(id) }, 30*time.Second).Should(gomega.ContainElement(gomega.HavePrefix("resource.deleted")))
	g.Consistently(func() []string { return c.delivered(id) }, 2*time.Second).Should(gomega.SatisfyAll(
		gomega.HaveEach(gomega.Not(gomega.HavePrefix("resource.created"))),
		gomega.ContainElement("resource.deleted"),
	))
	deleted := 0
	for _, d := range c.delivered(id) {
		if d == "resource.deleted" {
			deleted++
		}
	}
	g.Expect(deleted).To(gomega.Equal(1), "one delete, one resource.deleted: %v", c.delivered(id))
}

// expectReplayedEverywhere replays req to every replica, the one that took
// it included, and expects each to refuse it as replayed.
func (c *cluster) expectReplayedEverywhere(t *testing.T, req captured) {
	t.Helper()
	line := fmt.Sprintf("%-6s %-28s", req.method, req.target.Path)
	for i := range c.managers {
		got := c.sendTo(t, i, req)
		if got != replayed {
			t.Fatalf("%s %s replayed to replica %d: HTTP %d %q, want 401 replayed_nonce", req.method, req.target.Path, i, got.status, got.code)
		}
		line += fmt.Sprintf("  replica %d: %d %s", i, got.status, got.code)
	}
	t.Log("replayed " + line)
}

func (c *cluster) extensions(t *testing.T) []jetwayv1.Extension {
	t.Helper()
	var list jetwayv1.ExtensionList
	if err := c.k8s.List(context.Background(), &list); err != nil {
		t.Fatal(err)
	}
	return list.Items
}

func (c *cluster) spec(t *testing.T, id string) jetwayv1.ExtensionSpec {
	t.Helper()
	for _, e := range c.extensions(t) {
		if e.Spec.ID == id {
			return e.Spec
		}
	}
	t.Fatalf("no extension %s", id)
	return jetwayv1.ExtensionSpec{}
}

// waitReady waits until the extension's current generation is Ready.
func (c *cluster) waitReady(t *testing.T, g *gomega.WithT, id string) {
	t.Helper()
	g.Eventually(func() bool {
		for _, e := range c.extensions(t) {
			if e.Spec.ID == id {
				ready := false
				for _, cond := range e.Status.Conditions {
					ready = ready || cond.Type == jetwayv1.ConditionReady && cond.Status == "True"
				}
				return ready && e.Status.ObservedGeneration == e.Generation
			}
		}
		return false
	}, 90*time.Second, 200*time.Millisecond).Should(gomega.BeTrue(), "extension %s never became Ready", id)
}

// delivered lists the webhook actions Fly accepted for id, in order,
// duplicates (redeliveries of one delivery id) left out.
func (c *cluster) delivered(id string) []string {
	var out []string
	for _, d := range c.sim.WebhookDeliveries() {
		if d.ResourceID == id && !d.Duplicate {
			out = append(out, d.Action)
		}
	}
	return out
}
