package integration

import (
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"testing"

	"github.com/onsi/gomega"
	"sigs.k8s.io/controller-runtime/pkg/client"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
	"github.com/jetway-dev/jetway/internal/domain"
)

// TestProvisionThroughGateway follows one extension from Fly's POST to a
// running app: the answer Fly turns into customer secrets, the machines in
// each region, the Flycast address, the DNS record and the status Fly polls.
func TestProvisionThroughGateway(t *testing.T) {
	g := newG(t)
	ctx := ctxFor(t)
	id := uniqueID("prov")
	name := "logs-" + id
	const ipAddress = "fdaa:0:47fb:0:1::1d"

	req := provisionRequest(id, name, uniqueID("org"))
	req["primary_region"] = "mad"
	req["read_regions"] = []string{"syd", "scl"}
	req["ip_address"] = ipAddress
	created := provision(t, req)

	// The answer: everything Fly needs, before anything exists on Fly.
	app := appName(id)
	host := domain.DNSName(name, dnsZone)
	g.Expect(created).To(gomega.HaveKeyWithValue("id", id))
	g.Expect(created).To(gomega.HaveKeyWithValue("name", name))
	g.Expect(created).To(gomega.HaveKeyWithValue("fly_app_name", app))
	g.Expect(created).To(gomega.HaveKeyWithValue("status", jetwayv1.PhasePending))
	config, ok := created["config"].(map[string]any)
	g.Expect(ok).To(gomega.BeTrue(), "answer has no config object: %v", created)
	connURL, _ := config["LOGJAM_URL"].(string)
	u, err := url.Parse(connURL)
	g.Expect(err).NotTo(gomega.HaveOccurred(), "LOGJAM_URL %q", connURL)
	g.Expect(u.Scheme).To(gomega.Equal("postgres"))
	g.Expect(u.Host).To(gomega.Equal(host + ":5432"))
	g.Expect(u.User.Username()).To(gomega.Equal(domain.DNSLabel(name)))
	password, _ := u.User.Password()
	g.Expect(len(password)).To(gomega.BeNumerically(">=", 32), "password %q is too short to be generated", password)

	ext := waitReady(t, id)
	g.Expect(ext.Status.AppName).To(gomega.Equal(app))
	g.Expect(ext.Status.Machines).To(gomega.HaveLen(3))

	// Fly: exactly one machine per region, with the right role.
	g.Eventually(func() []string { return keys(placement(liveMachines(id))) }).Should(
		gomega.ConsistOf("primary/mad", "replica/syd", "replica/scl"))
	g.Expect(sim.Machines(app)).To(gomega.HaveLen(3), "no extra machines on the app")
	for _, m := range sim.Machines(app) {
		g.Expect(m.Region).To(gomega.Equal(m.Config.Metadata["jetway_region"]), "machine %s runs where its metadata says", m.ID)
		g.Expect(m.Config.Image).To(gomega.Equal(standardImage))
	}
	// The machines read the same credentials the customer was given.
	secrets := sim.Secrets(app)
	g.Expect(secrets).To(gomega.HaveKeyWithValue("JETWAY_USERNAME", u.User.Username()))
	g.Expect(secrets).To(gomega.HaveKeyWithValue("JETWAY_PASSWORD", password))

	// A Flycast address on the app.
	ips := sim.IPAssignments(app)
	g.Expect(ips).To(gomega.HaveLen(1), "app %s should have exactly its Flycast address: %+v", app, ips)
	flycast, err := netip.ParseAddr(ips[0].IP)
	g.Expect(err).NotTo(gomega.HaveOccurred())
	g.Expect(flycast.Is6() && strings.HasPrefix(ips[0].IP, "fdaa:")).To(gomega.BeTrue(), "not a private v6 address: %s", ips[0].IP)
	g.Expect(ext.Status.FlycastIP).To(gomega.Equal(ips[0].IP))

	// DNS: the extension's name resolves to the customer-network address.
	ep, err := dnsEndpointOf(ctx, ext)
	g.Expect(err).NotTo(gomega.HaveOccurred())
	g.Expect(ep.Spec.Endpoints).To(gomega.HaveLen(1))
	g.Expect(ep.Spec.Endpoints[0].DNSName).To(gomega.Equal(host))
	g.Expect(ep.Spec.Endpoints[0].RecordType).To(gomega.Equal("AAAA"))
	g.Expect(ep.Spec.Endpoints[0].Targets).To(gomega.ConsistOf(ipAddress))

	// Fly polls GET and sees ready.
	g.Eventually(func(g gomega.Gomega) {
		resp, err := flyAPI.Get(ctx, id)
		g.Expect(err).NotTo(gomega.HaveOccurred())
		g.Expect(resp.StatusCode).To(gomega.Equal(http.StatusOK), "body: %s", resp.Body)
		body := jsonBody(t, resp)
		g.Expect(body).To(gomega.HaveKeyWithValue("status", jetwayv1.PhaseReady))
		g.Expect(body).To(gomega.HaveKeyWithValue("fly_app_name", app))
		g.Expect(body).To(gomega.HaveKeyWithValue("hostname", host))
		g.Expect(body).NotTo(gomega.HaveKey("config"), "GET must never carry credentials")
	}).Should(gomega.Succeed())

	// Fly retries the POST: same answer, 200, and nothing new on Fly.
	resp, err := flyAPI.Create(ctx, req)
	g.Expect(err).NotTo(gomega.HaveOccurred())
	g.Expect(resp.StatusCode).To(gomega.Equal(http.StatusOK), "body: %s", resp.Body)
	repeat := jsonBody(t, resp)
	for _, k := range []string{"id", "name", "fly_app_name", "config"} {
		g.Expect(repeat[k]).To(gomega.Equal(created[k]), "repeat changed %q", k)
	}
	g.Consistently(func() int { return len(sim.Machines(app)) }).Should(gomega.Equal(3))
	checkKstatus(t, client.ObjectKeyFromObject(ext))
}
