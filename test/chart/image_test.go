package chart

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

var imageLine = regexp.MustCompile(`(?m)^\s*image:\s*"?([^"\s]+)"?\s*$`)

// images lists the distinct images a rendered manifest names.
func images(manifest string) []string {
	seen := map[string]bool{}
	var out []string
	for _, m := range imageLine.FindAllStringSubmatch(manifest, -1) {
		if !seen[m[1]] {
			seen[m[1]] = true
			out = append(out, m[1])
		}
	}
	return out
}

// TestDefaultImageIsTheOneMakeImageBuilds: installed with its defaults, the
// chart and the kustomize base both run the image `make image` builds by
// default (the Makefile's DEFAULT_IMG), so a version bump in Chart.yaml that
// forgets kustomize fails here.
func TestDefaultImageIsTheOneMakeImageBuilds(t *testing.T) {
	want, ok := os.LookupEnv("JETWAY_DEFAULT_IMG")
	if !ok || want == "" {
		t.Fatal("JETWAY_DEFAULT_IMG is not set: run `make test`, which sets it to the image `make image` builds by default")
	}
	helm := tool(t, "helm")
	kubectl := tool(t, "kubectl")
	for _, m := range []struct{ what, manifest string }{
		{"the chart", run(t, helm, helmArgs("template")...)},
		{"the kustomize base", run(t, kubectl, "kustomize", "../../config/default")},
	} {
		if got := images(m.manifest); len(got) != 1 || got[0] != want {
			t.Errorf("%s runs %v, want only %s (make image's default IMG)", m.what, got, want)
		}
	}
	// The raw manifest too, for anyone who applies it without kustomize.
	raw, err := os.ReadFile("../../config/manager/manager.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if got := images(string(raw)); len(got) != 1 || got[0] != want {
		t.Errorf("config/manager/manager.yaml names %v, want %s", got, want)
	}
	if strings.Contains(string(raw), ":latest") {
		t.Error("config/manager/manager.yaml still names a :latest image")
	}
}
