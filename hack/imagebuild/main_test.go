package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestSplitRefTakesTheTagAfterTheLastSlash(t *testing.T) {
	for _, c := range []struct {
		ref, repo, tag string
		ok             bool
	}{
		{"ghcr.io/jetway-dev/jetway:0.1.0", "ghcr.io/jetway-dev/jetway", "0.1.0", true},
		{"localhost:5000/jetway:dev", "localhost:5000/jetway", "dev", true},
		// A registry port is not a tag.
		{"localhost:5000/jetway", "localhost:5000/jetway", "", false},
		{"jetway", "jetway", "", false},
	} {
		repo, tag, ok := splitRef(c.ref)
		if repo != c.repo || tag != c.tag || ok != c.ok {
			t.Errorf("splitRef(%q) = %q, %q, %v; want %q, %q, %v", c.ref, repo, tag, ok, c.repo, c.tag, c.ok)
		}
	}
}

func TestValidateNamesEveryBadFlag(t *testing.T) {
	notExec := filepath.Join(t.TempDir(), "jetway")
	if err := os.WriteFile(notExec, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := options{binary: notExec, ref: "localhost:5000/jetway", created: time.Unix(-1, 0)}.validate()
	if err == nil {
		t.Fatal("validate accepted bad flags")
	}
	for _, want := range []string{"is not executable", "--ref", "--version", "--out", "--created"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("validate: %v; want it to name %s", err, want)
		}
	}
	if err := (options{}).validate(); err == nil || !strings.Contains(err.Error(), "--binary is required") {
		t.Errorf("validate with no binary: %v", err)
	}
}
