package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/spf13/cobra"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/jetway-dev/jetway/internal/flysim"
)

func newFlysimCommand() *cobra.Command {
	var (
		addr     string
		token    string
		org      string
		bootTime time.Duration
		latency  time.Duration
	)
	envNames := map[string]string{"token": "FLYSIM_TOKEN"}
	cmd := &cobra.Command{
		Use:   "flysim",
		Short: "Run the Fly Machines API stand-in on its own",
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := bindEnv(cmd, envNames); err != nil {
				return err
			}
			if token == "" {
				return errors.New("--token (or $FLYSIM_TOKEN) is required: clients must send it as a bearer token")
			}
			sim := flysim.New(flysim.Options{Token: token, OrgSlug: org, BootTime: bootTime, Latency: latency})
			defer sim.Close()
			srv := &http.Server{Addr: addr, Handler: sim, ReadHeaderTimeout: 10 * time.Second}
			ctx := ctrl.SetupSignalHandler()
			go func() {
				<-ctx.Done()
				shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				_ = srv.Shutdown(shutdown)
			}()
			fmt.Fprintf(cmd.OutOrStdout(), "flysim listening on http://%s (org %s)\n", addr, org)
			if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
				return err
			}
			return nil
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&addr, "addr", "127.0.0.1:4280", "Listen address")
	fs.StringVar(&token, "token", "", "Bearer token clients must present")
	fs.StringVar(&org, "org", "jetway-dev", "The organization slug apps are created in")
	fs.DurationVar(&bootTime, "boot-time", time.Second, "How long a machine takes to start")
	fs.DurationVar(&latency, "latency", 0, "Latency added to every request")
	envHelp(cmd, envNames)
	return cmd
}
