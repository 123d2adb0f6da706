package integration

import (
	"testing"

	"github.com/onsi/gomega"
	"github.com/superfly/fly-go/flaps"
	"sigs.k8s.io/controller-runtime/pkg/client"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
)

// TestExtraFlycastAddressIsReleased: Fly's IP assignment has no idempotency
// key, and one whose caller was killed can land after the next manager made
// its own (the chaos run met this once flysim carried out abandoned
// requests). The app must end with one Flycast address, the one in status.
// Such a request lands within its caller's HTTP timeout: here, just after
// Ready, inside the resyncs that still check in full (look.go).
func TestExtraFlycastAddressIsReleased(t *testing.T) {
	g := newG(t)
	ctx := ctxFor(t)
	id := uniqueID("two-ips")
	provision(t, provisionRequest(id, "ips-"+id, uniqueID("org")))
	ext := waitReady(t, id)
	app := appName(id)
	kept := ext.Status.FlycastIP
	g.Expect(kept).NotTo(gomega.BeEmpty())

	// The dead manager's assignment lands now.
	_, err := lateRequests(t).AssignIP(ctx, app, flaps.AssignIPRequest{Type: "private_v6", Network: app})
	g.Expect(err).NotTo(gomega.HaveOccurred())
	g.Expect(flycastOf(app)).To(gomega.HaveLen(2))

	g.Eventually(func() []string { return flycastOf(app) }).Should(gomega.Equal([]string{kept}),
		"the extra Flycast address was not released, or the wrong one was")
	g.Consistently(func(g gomega.Gomega) {
		got := &jetwayv1.Extension{}
		g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(ext), got)).To(gomega.Succeed())
		g.Expect(got.Status.FlycastIP).To(gomega.Equal(kept))
	}).Should(gomega.Succeed())
}

func flycastOf(app string) []string {
	var out []string
	for _, ip := range sim.IPAssignments(app) {
		if ip.IsFlycast() {
			out = append(out, ip.IP)
		}
	}
	return out
}
