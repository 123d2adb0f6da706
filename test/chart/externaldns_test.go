package chart

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// externalDNSValues turn on the chart's external-dns with the rfc2136
// provider, as test/dns runs it against BIND.
var externalDNSValues = []string{
	"--set", "externalDNS.enabled=true",
	"--set", "externalDNS.rfc2136.host=ns1.example.com",
	"--set", "externalDNS.rfc2136.tsigKeyName=jetway-key",
	"--set", "externalDNS.rfc2136.tsigSecret.existingSecret=external-dns-tsig",
}

// TestChartInstallsExternalDNS applies the chart with externalDNS on to a
// real kube-apiserver and checks that external-dns is configured for the
// CRD source and the zone, reads its TSIG secret from the Secret, and may
// read DNSEndpoints but nothing else.
func TestChartInstallsExternalDNS(t *testing.T) {
	helm := tool(t, "helm")
	kubectl := tool(t, "kubectl")

	if off := run(t, helm, helmArgs("template")...); strings.Contains(off, "external-dns") {
		t.Error("external-dns rendered with externalDNS.enabled unset (it is off by default)")
	}
	// Each rfc2136 setting without a default, left out, fails the render.
	for i := 2; i < len(externalDNSValues); i += 2 {
		key := strings.SplitN(externalDNSValues[i+1], "=", 2)[0]
		var args []string
		for j := 0; j < len(externalDNSValues); j += 2 {
			if j != i {
				args = append(args, externalDNSValues[j], externalDNSValues[j+1])
			}
		}
		if _, err := runErr(helm, helmArgs("template", args...)...); err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("rendering externalDNS without %s: %v, want an error naming it", key, err)
		}
	}

	// With the DNSEndpoint CRD, as on a cluster without external-dns.
	rendered := run(t, helm, helmArgs("template", append([]string{"--set", "installExternalDNSCRD=true"}, externalDNSValues...)...)...)
	for _, want := range []string{
		"--source=crd", "--crd-source-kind=DNSEndpoint", "--provider=rfc2136",
		"--domain-filter=ext.example.com", "--rfc2136-zone=ext.example.com", "--rfc2136-host=ns1.example.com",
		"--rfc2136-tsig-keyname=jetway-key", "--registry=txt", "--txt-owner-id=jetway",
		"name: EXTERNAL_DNS_RFC2136_TSIG_SECRET", "name: external-dns-tsig",
	} {
		if !strings.Contains(rendered, want) {
			t.Errorf("the chart with externalDNS on lacks %q", want)
		}
	}
	if strings.Contains(rendered, "--rfc2136-tsig-secret=") {
		t.Error("the TSIG secret is passed as a flag, visible in the manifest")
	}

	env := &envtest.Environment{}
	if _, err := env.Start(); err != nil {
		t.Fatalf("start envtest: %v", err)
	}
	t.Cleanup(func() { _ = env.Stop() })
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(kubeconfig, env.KubeConfig, 0o600); err != nil {
		t.Fatal(err)
	}
	kc := func(args ...string) string {
		return run(t, kubectl, append([]string{"--kubeconfig", kubeconfig}, args...)...)
	}
	chartFile := filepath.Join(t.TempDir(), "chart.yaml")
	if err := os.WriteFile(chartFile, []byte(rendered), 0o600); err != nil {
		t.Fatal(err)
	}
	kc("create", "namespace", "jetway-system")
	kc("apply", "--server-side", "-f", chartFile)
	kc("wait", "--for=condition=Established", "crd/dnsendpoints.externaldns.k8s.io")
	if got := kc("get", "deployment", "-n", "jetway-system", "-o", "name"); got != "deployment.apps/jetway\ndeployment.apps/jetway-external-dns\n" {
		t.Errorf("chart deployments = %q", got)
	}
	// What external-dns's ServiceAccount may do, asked of the API
	// server's authorizer.
	as := "--as=system:serviceaccount:jetway-system:jetway-external-dns"
	for _, tc := range []struct {
		verb, resource string
		want           string
	}{
		{"list", "dnsendpoints.externaldns.k8s.io", "yes"},
		{"watch", "dnsendpoints.externaldns.k8s.io", "yes"},
		{"update", "dnsendpoints.externaldns.k8s.io/status", "yes"},
		{"update", "dnsendpoints.externaldns.k8s.io", "no"},
		{"delete", "dnsendpoints.externaldns.k8s.io", "no"},
		{"list", "secrets", "no"},
		{"list", "services", "no"},
	} {
		resource, sub, _ := strings.Cut(tc.resource, "/")
		args := []string{"auth", "can-i", tc.verb, resource, as, "-A"}
		if sub != "" {
			args = append(args, "--subresource", sub)
		}
		got, _ := runErr(kubectl, append([]string{"--kubeconfig", kubeconfig}, args...)...)
		if strings.TrimSpace(got) != tc.want {
			t.Errorf("external-dns can-i %s %s = %q, want %s", tc.verb, tc.resource, strings.TrimSpace(got), tc.want)
		}
	}
}
