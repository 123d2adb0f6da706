package main

import (
	"errors"
	"fmt"
	"github.com/jetway-dev/jetway/internal/manager"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/go-logr/logr"
	"github.com/spf13/cobra"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/jetway-dev/jetway/internal/dev/chaos"
)

// newChaosCommand builds `jetway-dev chaos`: the crash-and-fault run that
// checks Jetway converges (see internal/chaos).
func newChaosCommand() *cobra.Command {
	var (
		cfg        chaos.Config
		faults     = chaos.DefaultFaults(0)
		dir        string
		managerBin string
	)
	cmd := &cobra.Command{
		Use:   "chaos",
		Short: "SIGKILL the manager at random while Fly calls and Fly fails, then check everything converges",
		Long: `Start a local control plane, the Fly stand-in with faults on, and "jetway manager"
(the product binary, --manager-bin) as a child process. Provision, update and delete extensions through the gateway
the way Fly does (retrying every call) while the manager is SIGKILLed and
restarted at random points. Then turn the faults off, wait for convergence, and
check the invariants: every live extension Ready with exactly its machines,
nothing orphaned or duplicated on Fly, no finalizer stuck, every status Fly
sees final. Prints a table; exits non-zero on any violation.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := manager.BindEnv(cmd, map[string]string{"assets": "KUBEBUILDER_ASSETS"}); err != nil {
				return err
			}
			if cfg.Assets == "" {
				return errors.New("--assets (or $KUBEBUILDER_ASSETS) must name the folder with kube-apiserver and etcd; `make chaos` sets it")
			}
			bin, err := managerBinary(managerBin)
			if err != nil {
				return err
			}
			// envtest logs through controller-runtime; the table says what matters.
			ctrllog.SetLogger(logr.Discard())
			faults.Seed = cfg.Seed
			cfg.JetwayBin, cfg.Faults, cfg.Dir = bin, &faults, dir
			cfg.Progress = cmd.ErrOrStderr()
			// Ctrl-C stops the run and still tears the stack down.
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			rep, err := chaos.Run(ctx, cfg)
			if rep != nil {
				fmt.Fprintln(cmd.OutOrStdout())
				rep.WriteTable(cmd.OutOrStdout())
			}
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.Assets, "assets", "", "Folder with kube-apiserver and etcd (make envtest builds them)")
	f.StringVar(&managerBin, "manager-bin", "", "The jetway binary to run as the manager (default: jetway beside this jetway-dev)")
	f.IntVar(&cfg.Extensions, "extensions", 200, "Extensions to provision")
	f.IntVar(&cfg.Restarts, "restarts", 1000, "Times to SIGKILL and restart the manager (crash points)")
	f.IntVar(&cfg.Wedges, "wedges", 0, "Running replica machines to wedge during the chaos (0: one per 50 crash points; negative: none)")
	f.Int64Var(&cfg.Seed, "seed", 1, "Seed for the workload, the crash points and flysim's faults")
	f.DurationVar(&cfg.MinUptime, "min-uptime", 300*time.Millisecond, "Shortest time the manager runs before the next SIGKILL")
	f.DurationVar(&cfg.MaxUptime, "max-uptime", 3*time.Second, "Longest time the manager runs before the next SIGKILL")
	f.Float64Var(&cfg.UpdateFraction, "update-fraction", 0.4, "Share of extensions that get one or two updates")
	f.Float64Var(&cfg.DeleteFraction, "delete-fraction", 0.3, "Share of extensions deleted again")
	f.DurationVar(&cfg.ConvergeTimeout, "converge-timeout", 5*time.Minute, "How long to wait for convergence once faults are off")
	f.Float64Var(&faults.ServerErrorRate, "server-error-rate", faults.ServerErrorRate, "Share of Fly requests answered 5xx")
	f.Float64Var(&faults.HangRate, "hang-rate", faults.HangRate, "Share of Fly requests that hang")
	f.DurationVar(&faults.HangFor, "hang-for", faults.HangFor, "How long a hung Fly request hangs")
	f.Float64Var(&faults.LostResponseRate, "lost-response-rate", faults.LostResponseRate, "Share of committing Fly requests whose answer is lost")
	f.Float64Var(&faults.AbandonedActRate, "abandoned-act-rate", faults.AbandonedActRate, "Share of hung committing Fly requests carried out after their caller went away")
	f.Float64Var(&faults.CapacityErrorRate, "capacity-error-rate", faults.CapacityErrorRate, "Share of machine placements that fail for capacity")
	f.Float64Var(&faults.CrashRate, "crash-rate", faults.CrashRate, "Chance a started machine crashes")
	f.DurationVar(&faults.LatencyP50, "latency-p50", faults.LatencyP50, "Median Fly latency")
	f.DurationVar(&faults.LatencyP95, "latency-p95", faults.LatencyP95, "95th percentile Fly latency")
	f.IntVar(&cfg.CPUBurners, "cpu-burners", 0, "Busy processes to run beside the whole run, as another build on the machine would (e.g. 2 on a 2-core machine)")
	f.IntVar(&cfg.ManagerGOMAXPROCS, "manager-gomaxprocs", 0, "Cap the manager's GOMAXPROCS (0: Go's default), to slow it against the API server and flysim")
	f.StringVar(&dir, "dir", "", "Folder for the run's files (default: a temporary folder)")
	f.BoolVar(&cfg.Keep, "keep", false, "Keep the run's folder (manager.log, kubeconfig, etcd data) for debugging")
	manager.EnvHelp(cmd, map[string]string{"assets": "KUBEBUILDER_ASSETS"})
	return cmd
}

// managerBinary is the product binary the chaos run starts as its manager:
// the one named, else the jetway that `make build` puts beside jetway-dev.
func managerBinary(named string) (string, error) {
	if named != "" {
		return named, nil
	}
	self, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("find the jetway binary to run as the manager: %w", err)
	}
	bin := filepath.Join(filepath.Dir(self), "jetway")
	if _, err := os.Stat(bin); err != nil {
		return "", fmt.Errorf("no jetway binary beside %s (build it with `make build`, or pass --manager-bin): %w", self, err)
	}
	return bin, nil
}
