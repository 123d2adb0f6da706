package chaos

import (
	"errors"
	"fmt"
	"os/exec"
	"syscall"
)

// cpuBurners are busy processes beside the run, as another build on the
// same machine would be: the manager, the API server and flysim then get
// less CPU, and every timing the code silently relied on stretches. They
// are separate processes, not goroutines, so they take CPU from every
// process alike instead of only from this one's scheduler.
type cpuBurners struct {
	procs []*exec.Cmd
}

// startCPUBurners starts n busy loops; n <= 0 starts none.
func startCPUBurners(n int) (*cpuBurners, error) {
	b := &cpuBurners{}
	for range n {
		cmd := exec.Command("sh", "-c", "while :; do :; done")
		// They must not outlive the run, whatever ends it.
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		if err := cmd.Start(); err != nil {
			b.stop()
			return nil, fmt.Errorf("start CPU burner: %w", err)
		}
		b.procs = append(b.procs, cmd)
	}
	return b, nil
}

// stop kills the burners and waits for them.
func (b *cpuBurners) stop() {
	for _, cmd := range b.procs {
		if err := cmd.Process.Kill(); err != nil && !errors.Is(err, syscall.ESRCH) {
			continue
		}
		_ = cmd.Wait()
	}
	b.procs = nil
}
