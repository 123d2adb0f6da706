// Package chart checks the deployment manifests the way an operator uses
// them: the Helm chart rendered by real helm, and the kustomize base built
// by kubectl, each applied to a real kube-apiserver.
package chart

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// requiredValues are the chart values without defaults.
var requiredValues = []string{
	"fly.org=acme-provider",
	"gateway.externalURL=https://jetway.example.com",
	"dnsZone=ext.example.com",
}

func tool(t *testing.T, name string) string {
	t.Helper()
	assets := os.Getenv("KUBEBUILDER_ASSETS")
	if assets == "" {
		t.Fatal("KUBEBUILDER_ASSETS is not set: run `make test`, which builds kube-apiserver, kubectl and helm and sets it")
	}
	p := filepath.Join(assets, name)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("%s is not built in %s: run `make envtest`", name, assets)
	}
	return p
}

// run runs a command and returns its stdout; a failure shows stderr.
func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := runErr(name, args...)
	if err != nil {
		t.Fatalf("%s %s: %v", filepath.Base(name), strings.Join(args, " "), err)
	}
	return out
}

func runErr(name string, args ...string) (string, error) {
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("%w: %s", err, stderr.String())
	}
	return stdout.String(), nil
}

func helmArgs(cmd string, extra ...string) []string {
	args := []string{cmd}
	if cmd == "template" {
		args = append(args, "jetway")
	}
	args = append(args, "../../charts/jetway", "--namespace", "jetway-system")
	if cmd == "template" {
		// helm's default is the Kubernetes version of the client libraries
		// it was built with, older than the chart's kubeVersion.
		args = append(args, "--kube-version", "1.37.2", "--include-crds")
	}
	for _, v := range requiredValues {
		args = append(args, "--set", v)
	}
	return append(args, extra...)
}

func TestChartLintsAndRefusesMissingValues(t *testing.T) {
	helm := tool(t, "helm")
	run(t, helm, helmArgs("lint", "--strict")...)
	// Each required value, left out, fails the render with its name.
	for i, v := range requiredValues {
		key := strings.SplitN(v, "=", 2)[0]
		args := []string{"template", "jetway", "../../charts/jetway", "--kube-version", "1.37.2"}
		for j, other := range requiredValues {
			if j != i {
				args = append(args, "--set", other)
			}
		}
		if _, err := runErr(helm, args...); err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("rendering without %s: %v, want an error naming it", key, err)
		}
	}
	// Sign-in on without a secret to read it from is refused too.
	if _, err := runErr(helm, helmArgs("template", "--set", "sso.clientID=c", "--set", "sso.existingSecret=")...); err == nil {
		t.Error("sso.clientID without sso.existingSecret rendered")
	}
}

// TestManifestsApplyToARealAPIServer applies the chart (with dashboard
// sign-in and webhooks on, so its optional parts render too) and the kustomize base to
// a real kube-apiserver, which validates every object against its schema.
func TestManifestsApplyToARealAPIServer(t *testing.T) {
	helm := tool(t, "helm")
	kubectl := tool(t, "kubectl")
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

	rendered := run(t, helm, helmArgs("template", "--set", "sso.clientID=client-1", "--set", "webhook.url=https://api.fly.example/api/hooks/extensions/jetway")...)
	for _, want := range []string{"JETWAY_OAUTH_CLIENT_ID", "JETWAY_SESSION_SECRET", "JETWAY_MACHINE_WEDGED_AFTER", "kind: CustomResourceDefinition",
		"JETWAY_FLY_WEBHOOK_URL", "JETWAY_WEBHOOK_SECRET"} {
		if !strings.Contains(rendered, want) {
			t.Errorf("the rendered chart lacks %s", want)
		}
	}
	chartFile := filepath.Join(t.TempDir(), "chart.yaml")
	if err := os.WriteFile(chartFile, []byte(rendered), 0o600); err != nil {
		t.Fatal(err)
	}
	kc("create", "namespace", "jetway-system")
	kc("apply", "--server-side", "-f", chartFile)
	if got := kc("get", "deployment", "-n", "jetway-system", "-o", "name"); got != "deployment.apps/jetway\n" {
		t.Errorf("chart deployments = %q", got)
	}
	if got := kc("get", "crd", "extensions.jetway.dev", "-o", "jsonpath={.status.acceptedNames.kind}"); got != "Extension" {
		t.Errorf("the Extension CRD was not accepted: %q", got)
	}

	// The kustomize base, into a namespace of its own so both installs
	// coexist (its cluster-scoped objects have other names).
	built := kc("kustomize", "../../config/default")
	if !strings.Contains(built, "kind: Deployment") {
		t.Fatal("kustomize built no Deployment")
	}
	kustomized := filepath.Join(t.TempDir(), "kustomized.yaml")
	if err := os.WriteFile(kustomized, []byte(built), 0o600); err != nil {
		t.Fatal(err)
	}
	kc("apply", "--server-side", "--force-conflicts", "-f", kustomized)
	if got := kc("get", "deployment", "-A", "-l", "app.kubernetes.io/name=jetway", "-o", "name"); !strings.Contains(got, "deployment.apps/") {
		t.Errorf("the kustomize base's deployment is missing: %q", got)
	}
}
