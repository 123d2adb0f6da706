package devstack

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// ManagerProcess runs `jetway manager` (the product binary) as a child
// process that can be SIGKILLed and started again, the way a node failure
// or an OOM kill ends a pod: no deferred cleanup, no lease release,
// in-flight requests cut off. The chaos run and the benchmark drive it.
type ManagerProcess struct {
	Bin         string
	Kubeconfig  string
	FlyURL      string
	FlyToken    string
	FlyOrg      string
	Secret      string
	GatewayAddr string
	StateDir    string
	// MetricsAddr, when set, serves the manager's metrics there, which
	// also tell whether it leads (Leads).
	MetricsAddr string
	// Args are further flags, after the ones every run gets; a flag given
	// here again wins.
	Args []string
	// LogPath collects the output of every run, each headed by a marker line.
	LogPath string
	// GOMAXPROCS, when positive, caps the manager's Go scheduler.
	GOMAXPROCS int

	mu     sync.Mutex
	cmd    *exec.Cmd
	done   chan struct{} // closed when cmd has exited
	killed bool          // the current run was ended by us
	starts int
	// unexpected records runs that ended without us killing them.
	unexpected []string
}

// GatewayURL is the Fly-facing base URL.
func (p *ManagerProcess) GatewayURL() string { return "http://" + p.GatewayAddr + "/flyio" }

func (p *ManagerProcess) args() []string {
	args := []string{"manager",
		"--fly-api-url", p.FlyURL,
		"--fly-org", p.FlyOrg,
		"--shared-secret", p.Secret,
		"--gateway-addr", p.GatewayAddr,
		"--state-dir", p.StateDir,
		"--metrics-addr", orZero(p.MetricsAddr),
		"--health-probe-addr", "0",
	}
	return append(args, p.Args...)
}

// env is ours minus any JETWAY_* setting that could override a flag we did
// not pass, plus the kubeconfig and Fly token.
func (p *ManagerProcess) env() []string {
	var out []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "JETWAY_") || strings.HasPrefix(kv, "KUBECONFIG=") || strings.HasPrefix(kv, "FLY_API_TOKEN=") ||
			(p.GOMAXPROCS > 0 && strings.HasPrefix(kv, "GOMAXPROCS=")) {
			continue
		}
		out = append(out, kv)
	}
	out = append(out, "KUBECONFIG="+p.Kubeconfig, "FLY_API_TOKEN="+p.FlyToken)
	if p.GOMAXPROCS > 0 {
		out = append(out, fmt.Sprintf("GOMAXPROCS=%d", p.GOMAXPROCS))
	}
	return out
}

// Start starts a run; the previous one must have ended.
func (p *ManagerProcess) Start() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd != nil && !isClosed(p.done) {
		return errors.New("manager is already running")
	}
	logFile, err := os.OpenFile(p.LogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("open manager log: %w", err)
	}
	p.starts++
	fmt.Fprintf(logFile, "===== manager start #%d at %s =====\n", p.starts, time.Now().UTC().Format(time.RFC3339Nano))
	cmd := exec.Command(p.Bin, p.args()...)
	cmd.Env = p.env()
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// If the chaos run itself dies, its manager must not outlive it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return fmt.Errorf("start %s manager: %w", p.Bin, err)
	}
	done := make(chan struct{})
	p.cmd, p.done, p.killed = cmd, done, false
	start := p.starts
	go func() {
		err := cmd.Wait()
		logFile.Close()
		p.mu.Lock()
		if !p.killed {
			p.unexpected = append(p.unexpected, fmt.Sprintf("manager run #%d exited on its own: %v (see %s)", start, err, p.LogPath))
		}
		p.mu.Unlock()
		close(done)
	}()
	return nil
}

// Kill SIGKILLs the current run and waits until it is gone.
func (p *ManagerProcess) Kill() error {
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	if cmd == nil || isClosed(done) {
		p.mu.Unlock()
		return nil
	}
	p.killed = true
	p.mu.Unlock()
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("kill manager: %w", err)
	}
	select {
	case <-done:
		return nil
	case <-time.After(30 * time.Second):
		return errors.New("manager did not exit within 30 s of SIGKILL")
	}
}

// Terminate asks the current run to stop with SIGTERM, as the kubelet
// stops a pod, and waits up to timeout for it to exit; it is SIGKILLed if
// it has not by then.
func (p *ManagerProcess) Terminate(timeout time.Duration) error {
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	if cmd == nil || isClosed(done) {
		p.mu.Unlock()
		return nil
	}
	p.killed = true
	p.mu.Unlock()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("terminate manager: %w", err)
	}
	select {
	case <-done:
		return nil
	case <-time.After(timeout):
		return errors.Join(fmt.Errorf("manager did not exit within %s of SIGTERM", timeout), p.Kill())
	}
}

// Stop ends the current run, if any.
func (p *ManagerProcess) Stop() error { return p.Kill() }

// Running reports whether a run is alive.
func (p *ManagerProcess) Running() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cmd != nil && !isClosed(p.done)
}

// Exited is closed when the current run ends.
func (p *ManagerProcess) Exited() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.done
}

// Pid is the current run's process id, or 0 when none is running.
func (p *ManagerProcess) Pid() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil || isClosed(p.done) {
		return 0
	}
	return p.cmd.Process.Pid
}

// Starts is how many runs were started.
func (p *ManagerProcess) Starts() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.starts
}

// Unexpected lists runs that ended without being killed: the manager
// crashing on its own is a finding.
func (p *ManagerProcess) Unexpected() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.unexpected...)
}

// WaitGateway waits until the gateway answers HTTP: an unsigned call gets
// 401, and the gateway serves only once the manager's caches have synced.
func (p *ManagerProcess) WaitGateway(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	hc := &http.Client{Timeout: 2 * time.Second}
	exited := p.Exited()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, p.GatewayURL()+"/extensions/ping", nil)
		if resp, err := hc.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusUnauthorized {
				return nil
			}
		}
		select {
		case <-exited:
			return fmt.Errorf("manager exited before its gateway answered (see %s)", p.LogPath)
		case <-ctx.Done():
			return fmt.Errorf("gateway at %s did not answer within %s (see %s)", p.GatewayURL(), timeout, p.LogPath)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func orZero(addr string) string {
	if addr == "" {
		return "0"
	}
	return addr
}

func isClosed(c chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}
