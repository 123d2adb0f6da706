package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/jetway-dev/jetway/internal/fly"
	"github.com/jetway-dev/jetway/internal/manager"
)

func newManagerCommand() *cobra.Command {
	var (
		f              manager.Flags
		sharedSecret   string
		flyAPIURL      string
		flyToken       string
		flyOrg         string
		leaderElection bool
		leaderNS       string
	)
	envNames := map[string]string{"fly-api-token": "FLY_API_TOKEN"}
	cmd := &cobra.Command{
		Use:   "manager",
		Short: "Run the gateway and controllers against a Kubernetes cluster and Fly's Machines API",
		Long: `Run Jetway in production: the Fly-facing gateway and all controllers, using
the in-cluster config or $KUBECONFIG, talking to Fly's Machines API.
Every flag can also be set with an environment variable (shown in brackets).`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := manager.BindEnv(cmd, envNames); err != nil {
				return err
			}
			// Before anything connects: bad timings are a typo, not an outage.
			if err := f.Lease.Validate(); err != nil {
				return err
			}
			secrets := manager.ParseSecrets(sharedSecret)
			if len(secrets) == 0 {
				return errors.New("--shared-secret (or $JETWAY_SHARED_SECRET) is required")
			}
			if flyToken == "" {
				return errors.New("a Fly API token is required in $FLY_API_TOKEN")
			}
			if flyOrg == "" {
				return errors.New("--fly-org (the provider's Fly organization slug) is required")
			}
			ctrl.SetLogger(zap.New(zap.UseDevMode(f.DevelopmentLog)))
			cfg, err := ctrl.GetConfig()
			if err != nil {
				return fmt.Errorf("load Kubernetes config: %w", err)
			}
			if err := os.MkdirAll(f.StateDir, 0o700); err != nil {
				return fmt.Errorf("create state dir: %w", err)
			}
			opts := f.Options(secrets)
			opts.RestConfig = cfg
			opts.LeaderElection = leaderElection
			opts.LeaderElectionNamespace = leaderNS
			opts.Fly = fly.Options{BaseURL: flyAPIURL, Token: flyToken, OrgSlug: flyOrg}
			opts.Log = ctrl.Log
			return manager.Run(ctrl.SetupSignalHandler(), opts)
		},
	}
	f.Register(cmd, ":8080")
	fs := cmd.Flags()
	fs.StringVar(&sharedSecret, "shared-secret", "", "Provisioning secret(s) shared with Fly, comma-separated while rotating")
	fs.StringVar(&flyAPIURL, "fly-api-url", "https://api.machines.dev", "Fly Machines API base URL")
	fs.StringVar(&flyToken, "fly-api-token", "", "Fly API token (prefer the environment variable)")
	fs.StringVar(&flyOrg, "fly-org", "", "The provider's Fly organization slug, where extension apps are created")
	fs.BoolVar(&leaderElection, "leader-elect", true, "Elect one active controller among replicas (the gateway serves on all)")
	fs.StringVar(&leaderNS, "leader-election-namespace", "", "Namespace of the leader election lease (default: the pod's)")
	manager.EnvHelp(cmd, envNames)
	return cmd
}
