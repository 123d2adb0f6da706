package main

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/jetway-dev/jetway/internal/dev/loadgen"
)

// newLoadCommand builds `jetway-dev load`: signed mixed traffic against a
// running gateway, then a check that nothing accepted was lost.
func newLoadCommand() *cobra.Command {
	var (
		gw  flyConfig
		cfg loadgen.Config
	)
	cmd := &cobra.Command{
		Use:   "load",
		Short: "Send signed mixed provisioning traffic to a gateway at a fixed rate and verify nothing was lost",
		Long: `Send signed requests as Fly would (new and repeated POSTs, GETs, PATCHes and
DELETEs) at --rate per second for --duration, with at most --concurrency in
flight. Then report the achieved rate, latency percentiles and answers by
status, and GET every extension whose POST was accepted: each must answer 200
unless the run deleted it. Exits non-zero on any 5xx (or unanswered request)
and on any lost extension.

The gateway URL and secret come from --gateway-url/--secret, else from
JETWAY_GATEWAY_URL/JETWAY_SHARED_SECRET, else from --env-file, which
"make run" writes.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := gw.client(cmd)
			if err != nil {
				return err
			}
			cfg.GatewayURL, cfg.Secret = c.BaseURL, c.Secret
			cfg.Progress = cmd.ErrOrStderr()
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			rep, err := loadgen.Run(ctx, cfg)
			if rep != nil {
				fmt.Fprintln(cmd.OutOrStdout())
				rep.WriteTable(cmd.OutOrStdout())
			}
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&gw.gatewayURL, "gateway-url", "", "gateway base URL including the Fly path, e.g. http://127.0.0.1:8080/flyio (env "+envGatewayURL+")")
	f.StringVar(&gw.secret, "secret", "", "shared provisioning secret (env "+envSharedSecret+")")
	f.StringVar(&gw.envFile, "env-file", ".jetway/dev.env", "KEY=VALUE file to read the gateway URL and secret from when not set otherwise")
	f.IntVar(&cfg.Rate, "rate", 200, "requests per second")
	f.DurationVar(&cfg.Duration, "duration", 30*time.Second, "how long to send")
	f.IntVar(&cfg.Concurrency, "concurrency", 128, "requests in flight at most")
	f.Int64Var(&cfg.Seed, "seed", 1, "seed for the sequence of request kinds and regions")
	f.BoolVar(&cfg.Cleanup, "cleanup", true, "delete the extensions the run left once verified")
	return cmd
}
