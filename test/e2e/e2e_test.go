// Package e2e drives the real binaries the way the README tells a newcomer
// to: `jetway-dev up`, then `jetway-dev fly` and `kubectl` against it.
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// stack is a running `jetway-dev up`.
type stack struct {
	t       *testing.T
	bin     string
	kubectl string
	dir     string
	env     map[string]string
	cmd     *exec.Cmd
	log     *bytes.Buffer
	done    chan error
}

func TestDevStackProvisionReadyDelete(t *testing.T) {
	s := startDev(t)

	out := s.jetway("fly", "create", "--id", "e2e-1", "--name", "e2e-db", "--org-id", "e2e-org",
		"--primary-region", "mad", "--read-regions", "syd,scl")
	if !strings.HasPrefix(out, "HTTP 201") || !strings.Contains(out, `"LOGJAM_URL": "postgres://e2e-db:`) {
		t.Fatalf("create: want HTTP 201 with a config URL, got:\n%s", out)
	}
	s.kubectlRun("wait", "--for=condition=Ready", "ext", "--all", "-A", "--timeout=120s")
	if got := s.kubectlRun("get", "ext", "-A", "-o", "jsonpath={.items[*].status.phase}"); got != "ready" {
		t.Fatalf("phase = %q, want ready", got)
	}
	if out := s.jetway("fly", "get", "e2e-1"); !strings.Contains(out, `"status": "ready"`) {
		t.Fatalf("GET does not say ready:\n%s", out)
	}
	// The dev zone answers the name with the address the DNSEndpoint names.
	target := s.kubectlRun("get", "dnsendpoints", "-A", "-o", "jsonpath={.items[*].spec.endpoints[*].targets[*]}")
	s.waitDevAAAA("e2e-db.ext.jetway.test", "NOERROR "+canonicalIP(t, target))
	apps := s.flyApps()
	if len(apps) != 1 {
		t.Fatalf("flysim has %d apps, want 1", len(apps))
	}
	if n := len(s.flyMachines(apps[0])); n != 3 {
		t.Fatalf("flysim has %d machines, want 3 (mad, syd, scl)", n)
	}

	if out := s.jetway("fly", "delete", "e2e-1"); !strings.HasPrefix(out, "HTTP 202") && !strings.HasPrefix(out, "HTTP 200") {
		t.Fatalf("delete: %s", out)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		out := s.jetway("fly", "delete", "e2e-1")
		if strings.HasPrefix(out, "HTTP 200") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("DELETE never answered 200; last:\n%s", out)
		}
		time.Sleep(500 * time.Millisecond)
	}
	if apps := s.flyApps(); len(apps) != 0 {
		t.Fatalf("flysim still has apps after delete: %v", apps)
	}
	if got := s.kubectlRun("get", "ext", "-A", "-o", "name"); got != "" {
		t.Fatalf("extensions left after delete: %q", got)
	}
	s.waitDevAAAA("e2e-db.ext.jetway.test", "NXDOMAIN")
	s.stop()
}

func startDev(t *testing.T) *stack {
	t.Helper()
	assets := os.Getenv("KUBEBUILDER_ASSETS")
	if assets == "" {
		t.Fatal("KUBEBUILDER_ASSETS is not set: run `make test`, which builds the control plane and sets it")
	}
	bin := os.Getenv("JETWAY_DEV_BIN")
	if bin == "" {
		bin = filepath.Join(t.TempDir(), "jetway-dev")
		build := exec.Command("go", "build", "-o", bin, "../../cmd/jetway-dev")
		if out, err := build.CombinedOutput(); err != nil {
			t.Fatalf("build jetway-dev: %v\n%s", err, out)
		}
	}
	kubectl := filepath.Join(assets, "kubectl")
	if _, err := os.Stat(kubectl); err != nil {
		kubectl = "kubectl"
	}
	s := &stack{t: t, bin: bin, kubectl: kubectl, dir: t.TempDir(), log: &bytes.Buffer{}, done: make(chan error, 1)}
	s.cmd = exec.Command(bin, "up", "--assets", assets, "--dir", s.dir,
		"--gateway-addr", freeAddr(t), "--flysim-addr", freeAddr(t), "--metrics-addr", "0", "--fly-boot-time", "300ms",
		"--dns-addr", "127.0.0.1:0")
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.done <- s.cmd.Wait() }()
	t.Cleanup(func() {
		if s.cmd.ProcessState == nil {
			_ = s.cmd.Process.Kill()
			if err := <-s.done; err != nil {
				t.Logf("jetway-dev up, killed: %v", err)
			}
		}
		if t.Failed() {
			t.Logf("jetway-dev up output:\n%s", s.log.String())
		}
	})
	deadline := time.Now().Add(2 * time.Minute)
	for !strings.Contains(s.log.String(), "Gateway listening") {
		select {
		case err := <-s.done:
			t.Fatalf("jetway-dev up exited early: %v\n%s", err, s.log.String())
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("jetway-dev up did not come up:\n%s", s.log.String())
		}
	}
	s.env = readEnv(t, filepath.Join(s.dir, "dev.env"))
	return s
}

// stop sends SIGTERM, as Ctrl-C would, and checks everything went away.
func (s *stack) stop() {
	s.t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		s.t.Fatal(err)
	}
	select {
	case err := <-s.done:
		if err != nil {
			s.t.Fatalf("jetway-dev up exited with %v after SIGTERM", err)
		}
	case <-time.After(60 * time.Second):
		s.t.Fatal("jetway-dev up did not stop within 60 s of SIGTERM")
	}
	if leftovers := processesMentioning(s.dir); len(leftovers) > 0 {
		s.t.Fatalf("processes left running after stop: %v", leftovers)
	}
}

func (s *stack) jetway(args ...string) string {
	s.t.Helper()
	cmd := exec.Command(s.bin, append(args, "--env-file", filepath.Join(s.dir, "dev.env"))...)
	cmd.Env = append(os.Environ(), "JETWAY_GATEWAY_URL=", "JETWAY_SHARED_SECRET=")
	out, _ := cmd.CombinedOutput() // non-2xx exits non-zero; callers read the status line
	return string(out)
}

func (s *stack) kubectlRun(args ...string) string {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, s.kubectl, append([]string{"--kubeconfig", filepath.Join(s.dir, "kubeconfig")}, args...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		s.t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// flyApps asks the Fly stand-in's Machines API, as Fly's own tools would.
func (s *stack) flyApps() []string {
	var res struct {
		Apps []struct{ Name string } `json:"apps"`
	}
	s.flyGet("/v1/apps?org_slug="+s.env["FLYSIM_ORG"], &res)
	var names []string
	for _, a := range res.Apps {
		names = append(names, a.Name)
	}
	return names
}

func (s *stack) flyMachines(app string) []map[string]any {
	var res []map[string]any
	s.flyGet("/v1/apps/"+app+"/machines", &res)
	return res
}

// flyGet reads from the Fly stand-in. Like Fly, it rate-limits per app,
// and Jetway's controller shares those buckets, so a 429 is waited out.
func (s *stack) flyGet(path string, out any) {
	s.t.Helper()
	var resp *http.Response
	for attempt := 0; ; attempt++ {
		req, _ := http.NewRequest(http.MethodGet, s.env["FLYSIM_URL"]+path, nil)
		req.Header.Set("Authorization", "Bearer "+s.env["FLYSIM_TOKEN"])
		var err error
		resp, err = http.DefaultClient.Do(req)
		if err != nil {
			s.t.Fatal(err)
		}
		if resp.StatusCode != http.StatusTooManyRequests || attempt == 5 {
			break
		}
		resp.Body.Close()
		wait, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
		time.Sleep(time.Duration(max(wait, 1)) * time.Second)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		s.t.Fatalf("GET %s: HTTP %d", path, resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		s.t.Fatal(err)
	}
}

func readEnv(t *testing.T, path string) map[string]string {
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
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// processesMentioning lists processes whose command line names dir (etcd's
// data dir is inside it).
func processesMentioning(dir string) []string {
	entries, _ := os.ReadDir("/proc")
	var out []string
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		cmdline := strings.ReplaceAll(string(b), "\x00", " ")
		if strings.Contains(cmdline, dir) && !strings.Contains(cmdline, "go test") {
			out = append(out, fmt.Sprintf("%s: %s", e.Name(), cmdline))
		}
	}
	return out
}
