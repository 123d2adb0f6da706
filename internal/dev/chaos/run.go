// Package chaos checks that Jetway converges whatever happens to it: it runs
// the manager as a child process, SIGKILLs and restarts it at random
// points while a driver plays Fly (provisioning, updating and deleting
// through the gateway, retrying like Fly's at-least-once delivery) and
// flysim injects Fly's failures. Then it turns the faults off and checks
// that both sides agree with what Fly was told: every live extension Ready
// with exactly its machines, each bound to a volume of its own, nothing
// orphaned or duplicated (apps, machines, IPs, volumes), no finalizer
// stuck, every status Fly can see final, and the bill (machine time and
// volume GB-time) what flysim's own log says.
package chaos

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/jetway-dev/jetway/internal/dev/flysim"
)

// Run performs one chaos run. The report is returned whenever the run got
// as far as checking; the error says whether any invariant was violated
// (or why the run could not be made).
func Run(ctx context.Context, cfg Config) (*Report, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	began := time.Now()
	dir, cleanup, err := runDir(cfg)
	if err != nil {
		return nil, err
	}
	rep := &Report{Seed: cfg.Seed, Extensions: cfg.Extensions, CPUBurners: cfg.CPUBurners, ManagerGOMAXPROCS: cfg.ManagerGOMAXPROCS}
	if cleanup == nil || cfg.Keep {
		rep.Dir = dir
	} else {
		defer cleanup() // deferred first, so it runs after stack.Close
	}

	// A long run restarts the manager a thousand times: run a private copy,
	// so that a `make build` meanwhile does not swap the binary mid-run.
	bin, err := copyExecutable(cfg.JetwayBin, filepath.Join(dir, "jetway"))
	if err != nil {
		return nil, err
	}
	// The burners run for the whole run, convergence included: on a busy
	// machine nothing may depend on timing.
	burners, err := startCPUBurners(cfg.CPUBurners)
	if err != nil {
		return nil, err
	}
	defer burners.stop()
	stack, err := StartStack(ctx, StackOptions{
		Assets: cfg.Assets, JetwayBin: bin, Dir: dir,
		Faults: *cfg.Faults, BootTime: cfg.BootTime, ManagerGOMAXPROCS: cfg.ManagerGOMAXPROCS, Log: cfg.Progress,
	})
	if err != nil {
		return nil, err
	}
	defer stack.Close()
	historyDay, err := seedHistory(ctx, stack.K8s, time.Now())
	if err != nil {
		return nil, err
	}

	model := make([]*extension, cfg.Extensions)
	spread := cfg.chaosWindow() * 6 / 10
	for i := range model {
		model[i] = newExtension(i, cfg.Seed, cfg, spread)
	}
	call := newCaller(stack.Fly)
	drv := &driver{call: call, exts: model, concurrency: cfg.Concurrency}
	kill := &killer{
		proc: stack.Manager, restarts: cfg.Restarts, minUptime: cfg.MinUptime, maxUptime: cfg.MaxUptime,
		rng: rand.New(rand.NewPCG(uint64(cfg.Seed), 0x6b696c6c)),
	}
	wedge := &wedger{sim: stack.Sim, wedges: cfg.Wedges, rng: rand.New(rand.NewPCG(uint64(cfg.Seed), 0x77656467))}
	if cfg.Wedges > 0 { // spread over most of the crash loop, which ends the wedging
		wedge.every = cfg.chaosWindow() * 8 / 10 / time.Duration(cfg.Wedges)
	}

	fmt.Fprintf(cfg.Progress, "chaos: %d extensions, %d crash points, faults %+v\n", cfg.Extensions, cfg.Restarts, *cfg.Faults)
	chaosStart := time.Now()
	killErr := runBoth(ctx, drv, kill, wedge, cfg.Progress)
	rep.Chaos = time.Since(chaosStart)
	rep.CrashPoints = int(kill.kills.Load())
	rep.WedgedReplicas = int(wedge.wedged.Load())
	if killErr != nil {
		return nil, fmt.Errorf("crash loop: %w", killErr)
	}
	published, err := snapshotClosedDays(ctx, stack.K8s)
	if err != nil {
		return nil, err
	}

	// From here the manager stays up and Fly behaves: whatever is still
	// wrong after the wait is Jetway's to fix.
	stack.Sim.SetFaults(flysim.Faults{})
	limitedUnderChaos := stack.Sim.Stats().RateLimited
	if !stack.Manager.Running() {
		if err := stack.Manager.Start(); err != nil {
			return nil, err
		}
	}
	fmt.Fprintf(cfg.Progress, "chaos: faults off after %s; waiting up to %s for convergence\n", rep.Chaos.Round(time.Second), cfg.ConvergeTimeout)
	// The checks' calls are counted apart, so the table's answers are Fly's
	// traffic during the chaos; their 5xx still count as served.
	checkCall := newCaller(stack.Fly)
	found, took, ok := converge(ctx, stack, model, checkCall, cfg.ConvergeTimeout, cfg.Progress)
	rep.ConvergeTime, rep.Converged = took, ok

	fillFigures(rep, model, call, stack)
	rep.Gateway5xx += checkCall.stats.served5xx()
	rep.RateLimitedAfter = rep.RateLimited - limitedUnderChaos
	rep.Invariants = found
	for inv, vs := range checkBilling(ctx, stack, published, historyDay, &rep.Billing) {
		found[inv] = append(found[inv], vs...)
	}
	for _, a := range drv.anomalies {
		found.add(invAnswers, "%s", a)
	}
	for _, e := range model {
		if e.Undelivered != "" {
			found.add(invAnswers, "%s: %s", e.ID, e.Undelivered)
		}
	}
	for _, u := range stack.Manager.Unexpected() {
		found.add(invManagerExits, "%s", u)
	}
	rep.Total = time.Since(began)
	if v := rep.Violations(); len(v) > 0 {
		return rep, fmt.Errorf("chaos: %d invariant violation(s); first: %s", len(v), v[0])
	}
	return rep, nil
}

// runBoth runs the driver and the crash loop together, with the wedger
// alongside until both are done, and waits for them, saying every half
// minute how far they are.
func runBoth(ctx context.Context, drv *driver, kill *killer, wedge *wedger, progress io.Writer) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	var killErr error
	stopTicker := make(chan struct{})
	defer close(stopTicker)
	go func() {
		t := time.NewTicker(30 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-stopTicker:
				return
			case <-t.C:
				fmt.Fprintf(progress, "chaos: %d/%d crash points, %d/%d extension scripts done\n",
					kill.kills.Load(), kill.restarts, drv.finished.Load(), len(drv.exts))
			}
		}
	}()
	wg.Add(1)
	go func() {
		defer wg.Done()
		if killErr = kill.run(ctx); killErr != nil {
			cancel() // a broken crash loop makes the rest meaningless
		}
	}()
	wedgeCtx, stopWedging := context.WithCancel(ctx)
	wedgerDone := make(chan struct{})
	go func() {
		defer close(wedgerDone)
		wedge.run(wedgeCtx)
	}()
	drv.run(ctx)
	wg.Wait()
	stopWedging() // wedges stop with the crash loop, so each is met under chaos
	<-wedgerDone
	if killErr == nil && ctx.Err() != nil {
		return ctx.Err()
	}
	return killErr
}

func fillFigures(rep *Report, model []*extension, call *caller, s *Stack) {
	for _, e := range model {
		if e.Created {
			rep.Provisioned++
		}
		if e.Updates > 0 {
			rep.Updated++
		}
		if e.Deleted {
			rep.Deleted++
		}
	}
	call.stats.mu.Lock()
	rep.GatewayAnswers = map[int]int{}
	for k, v := range call.stats.byCode {
		rep.GatewayAnswers[k] = v
	}
	rep.GatewayUnanswered = call.stats.unanswered
	call.stats.mu.Unlock()
	rep.Gateway5xx = call.stats.served5xx()
	st := s.Sim.Stats()
	for _, n := range st.Requests {
		rep.FlyRequests += n
	}
	rep.RateLimited = st.RateLimited
	rep.Injected = st.Injected
	rep.ManagerStarts = s.Manager.Starts()
	rep.SweptApps, rep.SweptMachines = swept(s.Manager.LogPath)
}

// runDir is cfg.Dir, or a new temporary folder and a function removing it.
func runDir(cfg Config) (string, func(), error) {
	if cfg.Dir != "" {
		if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
			return "", nil, fmt.Errorf("create %s: %w", cfg.Dir, err)
		}
		return cfg.Dir, nil, nil
	}
	dir, err := os.MkdirTemp("", "jetway-chaos-")
	if err != nil {
		return "", nil, fmt.Errorf("create run folder: %w", err)
	}
	return dir, func() { _ = os.RemoveAll(dir) }, nil
}

// copyExecutable copies the binary at src to dst and returns dst.
func copyExecutable(src, dst string) (string, error) {
	in, err := os.Open(src)
	if err != nil {
		return "", fmt.Errorf("open jetway binary: %w", err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		return "", fmt.Errorf("copy jetway binary: %w", err)
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return "", fmt.Errorf("copy jetway binary: %w", err)
	}
	return dst, out.Close()
}
