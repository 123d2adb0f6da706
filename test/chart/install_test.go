package chart

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// jetwayCRDs are the CRDs the chart installs (crds.install).
var jetwayCRDs = []string{
	"extensions.jetway.dev", "extensionplans.jetway.dev", "organizations.jetway.dev",
	"usageledgers.jetway.dev", "billingdays.jetway.dev",
}

// TestChartInstallsUpgradesAndUninstallsKeepingCRDs runs real helm against
// a real kube-apiserver: installs the chart, upgrades it through several
// value sets (each applied and validated by the API server), and
// uninstalls it, which must leave the CRDs, and so every extension record,
// in place.
func TestChartInstallsUpgradesAndUninstallsKeepingCRDs(t *testing.T) {
	helm := tool(t, "helm")
	c := startCluster(t)
	// prometheus-operator's CRD, as a cluster running it has (a stand-in).
	c.kc(t, "apply", "-f", "testdata/servicemonitor-crd.yaml")
	c.kc(t, "wait", "--for=condition=Established", "crd/servicemonitors.monitoring.coreos.com")

	chart := chartForSourceBuiltAPIServer(t)
	h := func(cmd string, set ...string) string {
		t.Helper()
		args := []string{cmd, "jetway"}
		if cmd != "uninstall" {
			args = append(args, chart, "--create-namespace")
			for _, v := range append(append([]string{}, requiredValues...), set...) {
				args = append(args, "--set", v)
			}
		}
		return run(t, helm, append(args, "--namespace", "jetway-system", "--kubeconfig", c.kubeconfig)...)
	}
	get := func(args ...string) string {
		t.Helper()
		return c.kc(t, append([]string{"get", "-n", "jetway-system"}, args...)...)
	}
	env := func(name string) string {
		t.Helper()
		return get("deployment", "jetway", "-o", `jsonpath={.spec.template.spec.containers[0].env[?(@.name=="`+name+`")].value}`)
	}

	// Defaults and the required values.
	h("install")
	for _, crd := range jetwayCRDs {
		if got := c.kc(t, "get", "crd", crd, "-o", `jsonpath={.metadata.annotations.helm\.sh/resource-policy}`); got != "keep" {
			t.Errorf("CRD %s resource-policy = %q, want keep", crd, got)
		}
	}
	if got := get("deployment", "jetway", "-o", "jsonpath={.spec.replicas}"); got != "2" {
		t.Errorf("default replicas = %s, want 2", got)
	}
	if got := env("JETWAY_MANAGED_NAMESPACE_ROLE"); got != "jetway-managed-namespace" {
		t.Errorf("JETWAY_MANAGED_NAMESPACE_ROLE = %q", got)
	}
	if got := get("servicemonitor", "-o", "name"); got != "" {
		t.Errorf("a ServiceMonitor exists with metrics.serviceMonitor.enabled unset: %q", got)
	}

	// Dashboard sign-in and webhooks on.
	h("upgrade", "sso.clientID=client-1", "webhook.url=https://api.fly.example/api/hooks/extensions/acme")
	if got := env("JETWAY_OAUTH_CLIENT_ID"); got != "client-1" {
		t.Errorf("JETWAY_OAUTH_CLIENT_ID = %q after turning SSO on", got)
	}
	if got := env("JETWAY_FLY_WEBHOOK_URL"); got != "https://api.fly.example/api/hooks/extensions/acme" {
		t.Errorf("JETWAY_FLY_WEBHOOK_URL = %q after turning webhooks on", got)
	}

	// external-dns beside it, with its CRD.
	h("upgrade", append([]string{"installExternalDNSCRD=true"}, externalDNSSets()...)...)
	c.kc(t, "wait", "--for=condition=Established", "crd/dnsendpoints.externaldns.k8s.io")
	if got := get("deployment", "-o", "name"); got != "deployment.apps/jetway\ndeployment.apps/jetway-external-dns\n" {
		t.Errorf("deployments with externalDNS on = %q", got)
	}
	if got := env("JETWAY_OAUTH_CLIENT_ID"); got != "" {
		t.Errorf("JETWAY_OAUTH_CLIENT_ID = %q after an upgrade without sso.clientID", got)
	}

	// A ServiceMonitor, the cluster having its CRD.
	h("upgrade", "metrics.serviceMonitor.enabled=true", "metrics.serviceMonitor.labels.release=prometheus")
	if got := get("servicemonitor", "jetway", "-o", "jsonpath={.metadata.labels.release} {.spec.endpoints[0].port}"); got != "prometheus http-metrics" {
		t.Errorf("ServiceMonitor release label and port = %q", got)
	}
	if got := get("deployment", "-o", "name"); got != "deployment.apps/jetway\n" {
		t.Errorf("external-dns outlived its upgrade off: %q", got)
	}

	// Three replicas electing a leader.
	h("upgrade", "replicaCount=3", "leaderElection=true")
	if got := get("deployment", "jetway", "-o", "jsonpath={.spec.replicas}"); got != "3" {
		t.Errorf("replicas = %s, want 3", got)
	}
	if got := env("JETWAY_LEADER_ELECT"); got != "true" {
		t.Errorf("JETWAY_LEADER_ELECT = %q", got)
	}
	if got := get("pdb", "jetway", "-o", "jsonpath={.spec.minAvailable}"); got != "1" {
		t.Errorf("PodDisruptionBudget minAvailable = %q", got)
	}

	h("uninstall")
	if got := get("deployment", "-o", "name"); got != "" {
		t.Errorf("deployments after uninstall: %q", got)
	}
	if _, err := runErr(c.kubectl, "--kubeconfig", c.kubeconfig, "get", "clusterrole", "jetway-manager"); err == nil {
		t.Error("the manager's ClusterRole outlived the release")
	}
	for _, crd := range append(jetwayCRDs, "dnsendpoints.externaldns.k8s.io") {
		if _, err := runErr(c.kubectl, "--kubeconfig", c.kubeconfig, "get", "crd", crd); err != nil {
			t.Errorf("CRD %s was deleted by helm uninstall: %v", crd, err)
		}
	}
}

// TestServiceMonitorNeedsItsCRD: rendered for a cluster without
// prometheus-operator's CRD, a ServiceMonitor fails the render with a
// message saying what is missing, instead of failing at apply time.
func TestServiceMonitorNeedsItsCRD(t *testing.T) {
	helm := tool(t, "helm")
	_, err := runErr(helm, helmArgs("template", "--set", "metrics.serviceMonitor.enabled=true")...)
	if err == nil || !strings.Contains(err.Error(), "no ServiceMonitor CRD") {
		t.Errorf("serviceMonitor on without the CRD: %v, want a failure naming the CRD", err)
	}
	out := run(t, helm, helmArgs("template", "--set", "metrics.serviceMonitor.enabled=true", "--api-versions", "monitoring.coreos.com/v1/ServiceMonitor")...)
	if !strings.Contains(out, "kind: ServiceMonitor") {
		t.Error("no ServiceMonitor rendered with the CRD present")
	}
	if _, err := runErr(helm, helmArgs("template", "--set", "metrics.serviceMonitor.enabled=true", "--set", "metrics.enabled=false",
		"--api-versions", "monitoring.coreos.com/v1/ServiceMonitor")...); err == nil || !strings.Contains(err.Error(), "metrics.enabled") {
		t.Errorf("serviceMonitor on with metrics off: %v, want a failure naming metrics.enabled", err)
	}
}

// externalDNSSets are externalDNSValues without the --set flags.
func externalDNSSets() []string {
	var out []string
	for i := 1; i < len(externalDNSValues); i += 2 {
		out = append(out, externalDNSValues[i])
	}
	return out
}

// chartForSourceBuiltAPIServer copies the chart without its kubeVersion:
// the kube-apiserver here is built from source without version stamps and
// says it is v0.0.0-master, which no kubeVersion range admits (helm
// install has no --kube-version; helm template checks the range, with
// the real version, in the other tests).
func chartForSourceBuiltAPIServer(t *testing.T) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "jetway")
	if err := os.CopyFS(dst, os.DirFS("../../charts/jetway")); err != nil {
		t.Fatal(err)
	}
	meta, err := os.ReadFile(filepath.Join(dst, "Chart.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	kubeVersion := regexp.MustCompile(`(?m)^kubeVersion:.*\n`)
	if !kubeVersion.Match(meta) {
		t.Fatal("Chart.yaml has no kubeVersion line to drop")
	}
	if err := os.WriteFile(filepath.Join(dst, "Chart.yaml"), kubeVersion.ReplaceAll(meta, nil), 0o600); err != nil {
		t.Fatal(err)
	}
	return dst
}
