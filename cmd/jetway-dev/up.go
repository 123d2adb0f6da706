package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/jetway-dev/jetway/internal/dev/devstack"
	"github.com/jetway-dev/jetway/internal/dev/devzone"
	"github.com/jetway-dev/jetway/internal/dev/flysim"
	"github.com/jetway-dev/jetway/internal/fly"
	"github.com/jetway-dev/jetway/internal/manager"
)

const (
	devOrg      = "jetway-dev"
	devProvider = "jetway"
	// devOAuthClientID is the OAuth application flysim's OAuth server
	// registers for Jetway, so Fly users can sign in to its dashboard.
	devOAuthClientID = "jetway-dev"
)

func newUpCommand() *cobra.Command {
	var (
		f          manager.Flags
		assets     string
		dir        string
		flysimAddr string
		bootTime   time.Duration
		idleAfter  time.Duration
		dnsAddr    string
	)
	cmd := &cobra.Command{
		Use:   "up",
		Short: "Run the whole system locally: control plane, Fly stand-in, gateway and controllers",
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := manager.BindEnv(cmd, map[string]string{"assets": "KUBEBUILDER_ASSETS"}); err != nil {
				return err
			}
			ctrl.SetLogger(zap.New(zap.UseDevMode(true)))
			return runUp(ctrl.SetupSignalHandler(), cmd, f, assets, dir, flysimAddr, dnsAddr, bootTime, idleAfter)
		},
	}
	f.Register(cmd, "127.0.0.1:8080")
	// A laptop gets quicker feedback than a cluster.
	_ = cmd.Flags().Set("resync", "30s")
	_ = cmd.Flags().Set("poll-interval", "1s")
	_ = cmd.Flags().Set("metrics-addr", "127.0.0.1:8443")
	_ = cmd.Flags().Set("health-probe-addr", "0")
	fs := cmd.Flags()
	fs.StringVar(&assets, "assets", "", "Folder with kube-apiserver and etcd (`make envtest` builds them)")
	fs.StringVar(&dir, "dir", ".jetway", "Folder for etcd data, kubeconfig, dev.env and the nonce store")
	fs.StringVar(&flysimAddr, "flysim-addr", "127.0.0.1:4280", "Address the Fly stand-in listens on")
	fs.StringVar(&dnsAddr, "dns-addr", "127.0.0.1:8053", "Address the dev DNS server answers the DNS zone on, from the DNSEndpoints (UDP and TCP; \"\" turns it off)")
	fs.DurationVar(&bootTime, "fly-boot-time", time.Second, "How long a simulated Fly machine takes to start")
	fs.DurationVar(&idleAfter, "fly-idle-after", 30*time.Second, "How long before Fly's proxy stops an idle machine of a plan with autostop")
	manager.EnvHelp(cmd, map[string]string{"assets": "KUBEBUILDER_ASSETS"})
	return cmd
}

func runUp(ctx context.Context, cmd *cobra.Command, f manager.Flags, assets, dir, flysimAddr, dnsAddr string, bootTime, idleAfter time.Duration) error {
	log := ctrl.Log.WithName("dev")
	if assets == "" {
		return errors.New("--assets (or $KUBEBUILDER_ASSETS) must name the folder with kube-apiserver and etcd; `make run` sets it")
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	envPath := filepath.Join(dir, "dev.env")
	// Secrets survive restarts, so a shell that sourced dev.env keeps working.
	prev, err := devstack.ReadEnvFile(envPath)
	if err != nil {
		return fmt.Errorf("read %s: %w", envPath, err)
	}
	secret := orElse(prev[devstack.EnvSharedSecret], devstack.RandomSecret())
	webhookSecret := orElse(f.WebhookSecret, orElse(prev[devstack.EnvWebhookSecret], devstack.RandomSecret()))
	flyToken := orElse(prev[devstack.EnvFlysimToken], devstack.RandomSecret())
	oauthSecret := orElse(prev[devstack.EnvOAuthSecret], devstack.RandomSecret())
	sessionSecret := orElse(prev[devstack.EnvSessionSecret], devstack.RandomSecret())

	// Listen before starting anything slow, so a taken port fails fast.
	flyLn, err := net.Listen("tcp", flysimAddr)
	if err != nil {
		return fmt.Errorf("flysim cannot listen on %s (use --flysim-addr): %w", flysimAddr, err)
	}
	if ln, err := net.Listen("tcp", f.GatewayAddr); err != nil {
		flyLn.Close()
		return fmt.Errorf("gateway cannot listen on %s (use --gateway-addr): %w", f.GatewayAddr, err)
	} else {
		ln.Close()
	}

	var devDNS *devzone.Server
	if dnsAddr != "" {
		if devDNS, err = devzone.Bind(dnsAddr); err != nil {
			flyLn.Close()
			return fmt.Errorf("%w (use --dns-addr, or --dns-addr \"\" to go without)", err)
		}
		// Start shuts it down when ctx ends; this covers a return before.
		defer func() { _ = devDNS.Shutdown(context.Background()) }()
	}

	log.Info("Starting local control plane", "assets", assets, "etcdData", filepath.Join(dir, "etcd"))
	cp, err := devstack.StartControlPlane(assets, dir)
	if err != nil {
		flyLn.Close()
		return err
	}
	defer func() {
		log.Info("Stopping local control plane")
		if err := cp.Stop(); err != nil {
			log.Error(err, "Stopping the control plane failed")
		}
	}()
	kubeconfigPath := filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(kubeconfigPath, cp.Kubeconfig, 0o600); err != nil {
		return fmt.Errorf("write kubeconfig: %w", err)
	}
	c, err := client.New(cp.Config, client.Options{Scheme: manager.NewScheme()})
	if err != nil {
		return err
	}
	if err := devstack.InstallSamplePlans(ctx, c); err != nil {
		return err
	}

	// In production external-dns publishes the DNSEndpoints to the
	// provider's DNS; here an in-process server answers from them, so
	// `make run` needs no DNS server installed.
	dnsServed := ""
	if devDNS != nil {
		if err := devDNS.Start(ctx, cp.Config, manager.NewScheme(), f.DNSZone, ctrl.Log.WithName("dev-dns")); err != nil {
			flyLn.Close()
			return err
		}
		dnsServed = devDNS.Addr
	}

	external := f.ExternalURL
	if external == "" {
		external = "http://" + f.GatewayAddr
	}
	sim := flysim.New(flysim.Options{
		Token: flyToken, OrgSlug: devOrg, BootTime: bootTime,
		// flysim plays all of Fly: its webhook endpoint, the machine events
		// it sends the provider, and the proxy that stops idle machines of
		// plans with autostop.
		WebhookSecret: webhookSecret,
		// Unsigned, as Fly sends them (its page documents no signature).
		EventsURL: strings.TrimSuffix(external, "/") + f.BasePath + "/extensions/events",
		IdleAfter: idleAfter,
		// Fly's OAuth server too, with Jetway as a registered application.
		OAuth: &flysim.OAuthOptions{
			Clients: []flysim.OAuthClient{{
				ID: devOAuthClientID, Secret: oauthSecret,
				RedirectURIs: []string{strings.TrimSuffix(external, "/") + f.BasePath + "/callback"},
			}},
			Users: flysim.DefaultOAuthUsers(),
		},
	})
	simServer := &http.Server{Handler: sim, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := simServer.Serve(flyLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error(err, "flysim stopped")
		}
	}()
	defer func() {
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = simServer.Shutdown(shutdown)
		sim.Close()
	}()
	flysimURL := "http://" + flyLn.Addr().String()

	opts := f.Options([][]byte{[]byte(secret)})
	opts.RestConfig = cp.Config
	opts.StateDir = dir
	opts.Fly = fly.Options{BaseURL: flysimURL, Token: flyToken, OrgSlug: devOrg}
	// Fly's webhook endpoint for this provider is played by flysim too,
	// unless --fly-webhook-url names another (`jetway-dev conformance
	// --webhook-listen` runs one).
	if opts.WebhookURL == "" {
		opts.WebhookURL = flysimURL + "/api/hooks/extensions/" + devProvider
	}
	opts.WebhookSecret = []byte(webhookSecret)
	// Customers sign in to the dashboard through flysim's OAuth server.
	opts.Dashboard.ClientID = devOAuthClientID
	opts.Dashboard.ClientSecret = oauthSecret
	opts.Dashboard.FlyOAuthURL = flysimURL
	opts.Dashboard.SessionSecrets = [][]byte{[]byte(sessionSecret)}
	opts.Log = ctrl.Log
	gatewayURL := opts.Gateway.ExternalURL + opts.Gateway.BasePath

	if err := devstack.WriteEnvFile(envPath, map[string]string{
		devstack.EnvGatewayURL:    gatewayURL,
		devstack.EnvSharedSecret:  secret,
		devstack.EnvWebhookSecret: webhookSecret,
		devstack.EnvFlysimURL:     flysimURL,
		devstack.EnvFlysimToken:   flyToken,
		devstack.EnvFlysimOrg:     devOrg,
		devstack.EnvKubeconfig:    kubeconfigPath,
		devstack.EnvOAuthSecret:   oauthSecret,
		devstack.EnvSessionSecret: sessionSecret,
		devstack.EnvDNSAddr:       dnsServed,
	}); err != nil {
		return fmt.Errorf("write %s: %w", envPath, err)
	}
	printNextSteps(cmd, dir, gatewayURL, flysimURL)
	printDNS(cmd, dnsServed, f.DNSZone)
	err = manager.Run(ctx, opts)
	log.Info("Jetway stopped")
	return err
}

func printNextSteps(cmd *cobra.Command, dir, gatewayURL, flysimURL string) {
	rel := dir
	if wd, err := os.Getwd(); err == nil {
		if r, err := filepath.Rel(wd, dir); err == nil && !strings.HasPrefix(r, "..") {
			rel = r
		}
	}
	fmt.Fprintf(cmd.OutOrStdout(), `
Jetway is running.
  gateway (Fly-facing API)     %s
  Fly stand-in (Machines API)  %s
  kubeconfig                   %s/kubeconfig
  settings and secrets         %s/dev.env

Try it, in another terminal:
  . %[5]s/dev.env
  bin/jetway-dev fly create --id demo-1 --name demo-db --org-id acme --primary-region mad --read-regions syd,scl
  kubectl get ext -A
  kubectl wait --for=condition=Ready ext --all -A --timeout=2m
  bin/jetway-dev fly get demo-1
  bin/jetway-dev fly webhooks            # what Fly was told
  open %[1]s/extensions/demo-1/sso   # the dashboard: sign in as Ada Admin (admin of acme)
  bin/jetway-dev fly delete demo-1

Press Ctrl-C to stop everything.

`, gatewayURL, flysimURL, rel, rel, rel)
}

// printDNS says where the dev zone answers and how to ask it.
func printDNS(cmd *cobra.Command, addr, zone string) {
	if addr == "" {
		fmt.Fprintln(cmd.OutOrStdout(), "The dev DNS server is off (--dns-addr \"\").")
		return
	}
	host, port, _ := net.SplitHostPort(addr)
	fmt.Fprintf(cmd.OutOrStdout(), `DNS: zone %[1]s answers at %[2]s (UDP and TCP), from the DNSEndpoints Jetway writes:
  dig @%[3]s -p %[4]s demo-db.%[1]s AAAA +short

`, strings.Trim(zone, "."), addr, host, port)
}

func orElse(v, d string) string {
	if v != "" {
		return v
	}
	return d
}
