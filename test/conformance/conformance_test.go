// Package conformance runs `jetway-dev conformance`, Fly's side of the
// protocol as a test suite, against the stack `make run` starts, with the
// stack's webhooks pointed at the suite's sink: Jetway must pass every
// check, and a wrong secret must make the command fail.
package conformance

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestJetwayPassesTheConformanceSuite(t *testing.T) {
	assets := os.Getenv("KUBEBUILDER_ASSETS")
	if assets == "" {
		t.Fatal("KUBEBUILDER_ASSETS is not set: run `make test`, which builds the control plane and sets it")
	}
	bin := devBinary(t)
	dir := t.TempDir()
	sink := freeAddr(t)
	webhookSecret := "conformance-webhook-secret"
	up := exec.Command(bin, "up", "--assets", assets, "--dir", dir,
		"--gateway-addr", freeAddr(t), "--flysim-addr", freeAddr(t), "--metrics-addr", "0",
		"--fly-boot-time", "300ms", "--dns-addr", "",
		// Fly's webhook endpoint is the suite's sink, not flysim's.
		"--fly-webhook-url", "http://"+sink+"/api/hooks/extensions/jetway", "--webhook-secret", webhookSecret)
	var log bytes.Buffer
	up.Stdout, up.Stderr = &log, &log
	if err := up.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- up.Wait() }()
	t.Cleanup(func() {
		if up.ProcessState == nil {
			_ = up.Process.Signal(syscall.SIGTERM)
			select {
			case err := <-done:
				t.Logf("jetway-dev up, stopped in cleanup: %v", err)
			case <-time.After(60 * time.Second):
				_ = up.Process.Kill()
				t.Logf("jetway-dev up, killed: %v", <-done)
			}
		}
		if t.Failed() {
			t.Logf("jetway-dev up output:\n%s", log.String())
		}
	})
	waitFor(t, &log, done, "Gateway listening")
	env := readEnv(t, filepath.Join(dir, "dev.env"))
	gateway := env["JETWAY_GATEWAY_URL"]

	// The secrets come from the environment, as the README suggests, so
	// they are not on a command line.
	out, code := conformance(t, bin, []string{gateway, "--webhook-listen", sink, "--timeout", "2m"},
		"CONFORMANCE_SECRET="+env["JETWAY_SHARED_SECRET"], "CONFORMANCE_WEBHOOK_SECRET="+webhookSecret)
	t.Logf("jetway-dev conformance %s --webhook-listen %s:\n%s", gateway, sink, out)
	if code != 0 {
		t.Errorf("jetway-dev conformance exited %d, want 0", code)
	}
	rows := 0
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) < 3 || !strings.Contains(f[0], ".") && f[0] != "cleanup" {
			continue
		}
		rows++
		for _, word := range f {
			if word == "FAIL" || word == "SKIP" || word == "INFO" {
				// Every optional part is configured here (webhooks, billing,
				// SSO), so nothing may be skipped, and Jetway's own choices
				// are the suite's reference, so nothing is info.
				t.Errorf("check %s: %s", f[0], word)
				break
			}
		}
	}
	if rows < 30 {
		t.Errorf("the table has %d check rows, want at least 30", rows)
	}

	// A provider that refuses Fly's signature fails the run: exit 1.
	bad, code := conformance(t, bin, []string{gateway, "--timeout", "20s", "--skip-sso"},
		"CONFORMANCE_SECRET=not-the-secret")
	if code != 1 || !strings.Contains(bad, "provision.create") || !strings.Contains(bad, "FAIL") {
		t.Errorf("with a wrong secret: exit %d, want 1 with provision.create failing:\n%s", code, bad)
	}

	if err := up.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("jetway-dev up exited with %v after SIGTERM", err)
		}
	case <-time.After(60 * time.Second):
		t.Error("jetway-dev up did not stop within 60 s of SIGTERM")
	}
}

// conformance runs the command with only the given secrets in its
// environment and returns its output and exit code.
func conformance(t *testing.T, bin string, args []string, env ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, append([]string{"conformance"}, args...)...)
	cmd.Env = append(os.Environ(), "JETWAY_SHARED_SECRET=", "JETWAY_WEBHOOK_SECRET=")
	cmd.Env = append(cmd.Env, env...)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return string(out), 0
	case errors.As(err, &exit):
		return string(out), exit.ExitCode()
	}
	t.Fatalf("jetway-dev conformance: %v\n%s", err, out)
	return "", -1
}

func devBinary(t *testing.T) string {
	t.Helper()
	if bin := os.Getenv("JETWAY_DEV_BIN"); bin != "" {
		return bin
	}
	bin := filepath.Join(t.TempDir(), "jetway-dev")
	build := exec.Command("go", "build", "-o", bin, "../../cmd/jetway-dev")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build jetway-dev: %v\n%s", err, out)
	}
	return bin
}

func waitFor(t *testing.T, log *bytes.Buffer, done <-chan error, line string) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for !strings.Contains(log.String(), line) {
		select {
		case err := <-done:
			t.Fatalf("jetway-dev up exited early: %v\n%s", err, log.String())
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("jetway-dev up did not come up:\n%s", log.String())
		}
	}
}

func readEnv(t *testing.T, path string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(strings.TrimPrefix(strings.TrimSpace(line), "export "), "=")
		if ok && !strings.HasPrefix(k, "#") {
			env[k] = strings.Trim(v, `"`)
		}
	}
	return env
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
