package main

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/go-logr/logr"
	"github.com/spf13/cobra"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/jetway-dev/jetway/internal/dev/bench"
	"github.com/jetway-dev/jetway/internal/manager"
)

// newBenchCommand builds `jetway-dev bench`: every performance figure
// beside its floor, measured in the same run.
func newBenchCommand() *cobra.Command {
	var (
		cfg        bench.Config
		only       string
		jsonPath   string
		managerBin string
	)
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure Jetway's performance figures, each beside the floor measured in the same run",
		Long: `Start a stack of its own for each figure (a local control plane, flysim over
real HTTP, and the jetway manager binary as a child process), measure it, and
print one table: figure, Jetway's value, the floor measured in the same run,
the ratio and the goal. The table is also written as JSON (--json).

It never fails on a figure: a goal not met shows as such. --only runs some
figures (e.g. --only P1,P6); --scale shrinks every size (0.1 for a quick look).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := manager.BindEnv(cmd, map[string]string{"assets": "KUBEBUILDER_ASSETS"}); err != nil {
				return err
			}
			if cfg.Assets == "" {
				return errors.New("--assets (or $KUBEBUILDER_ASSETS) must name the folder with kube-apiserver and etcd; `make bench` sets it")
			}
			bin, err := managerBinary(managerBin)
			if err != nil {
				return err
			}
			cfg.ManagerBin = bin
			if only != "" {
				cfg.Only = strings.Split(only, ",")
			}
			cfg.Progress = cmd.ErrOrStderr()
			// envtest logs through controller-runtime; the table says what matters.
			ctrllog.SetLogger(logr.Discard())
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			res, err := bench.Run(ctx, cfg)
			if res != nil {
				fmt.Fprintln(cmd.OutOrStdout())
				res.WriteTable(cmd.OutOrStdout())
				if jsonPath != "" {
					if werr := res.WriteJSON(jsonPath); werr != nil {
						return errors.Join(err, werr)
					}
					fmt.Fprintf(cmd.ErrOrStderr(), "bench: wrote %s\n", jsonPath)
				}
			}
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.Assets, "assets", "", "Folder with kube-apiserver and etcd (make envtest builds them)")
	f.StringVar(&managerBin, "manager-bin", "", "The jetway binary to run as the manager (default: jetway beside this jetway-dev)")
	f.StringVar(&only, "only", "", "Comma-separated figures to run (P1,P2,P4,P5,P6,P7,P8,P8g,P9,P10); default all")
	f.Float64Var(&cfg.Scale, "scale", 1, "Multiply every size (extension counts, load durations) by this")
	f.StringVar(&jsonPath, "json", "test-artifacts/bench/results.json", "Where to write the table as JSON (empty: nowhere)")
	f.StringVar(&cfg.Profiles, "profiles", "", "Folder for CPU profiles of the manager under P1's load and P9's reads, and heap profiles from P5 (empty: none)")
	f.StringVar(&cfg.Dir, "dir", "", "Scratch folder for the stacks (default: a temporary one, removed afterwards)")
	f.DurationVar(&cfg.FlyLatency, "fly-latency", 0, "flysim's fixed latency per Machines API request (default 20ms)")
	f.DurationVar(&cfg.BootTime, "fly-boot-time", 0, "How long a simulated machine takes to start (default 1s)")
	f.IntVar(&cfg.P1Rate, "p1-rate", 0, "P1: gateway requests per second (default 200)")
	f.DurationVar(&cfg.P1Duration, "p1-duration", 0, "P1: how long to send (default 20s)")
	f.IntVar(&cfg.P2Extensions, "p2-extensions", 0, "P2/P7: extensions to provision (default 100)")
	f.Float64Var(&cfg.P2Rate, "p2-rate", 0, "P2/P7/P6/P10: POSTs per second (default 0.8, below Fly's app creation limit)")
	f.IntVar(&cfg.P4Extensions, "p4-extensions", 0, "P4: extensions provisioned at once (default 30)")
	f.IntVar(&cfg.P6Extensions, "p6-extensions", 0, "P6: idle extensions (default 20)")
	f.IntVar(&cfg.P6Resyncs, "p6-resyncs", 0, "P6: resync periods to count over (default 3)")
	f.DurationVar(&cfg.P6Resync, "p6-resync", 0, "P6: the manager's --resync (default 5s)")
	f.IntVar(&cfg.P8Kills, "p8-kills", 0, "P8: times the leader is SIGKILLed (default 10)")
	f.IntVar(&cfg.P9Extensions, "p9-extensions", 0, "P9: extensions in the organization whose billing is read (default 1000)")
	f.IntVar(&cfg.P9Requests, "p9-requests", 0, "P9: billing GETs timed, and as many for the floor (default 200)")
	f.IntVar(&cfg.P10Extensions, "p10-extensions", 0, "P10: extensions provisioned, at --p2-rate, on a plan with a volume per machine (default 20)")
	return cmd
}
