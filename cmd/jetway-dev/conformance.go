package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/jetway-dev/jetway/internal/dev/conformance"
)

const (
	envConformanceSecret        = "CONFORMANCE_SECRET"
	envConformanceWebhookSecret = "CONFORMANCE_WEBHOOK_SECRET"
)

// errChecksFailed makes the command exit 1 after the table said why.
var errChecksFailed = errors.New("some conformance checks failed")

// newConformanceCommand builds `jetway-dev conformance`: Fly's side of the
// protocol as a test suite any provider can point at its own base URL.
func newConformanceCommand() *cobra.Command {
	var (
		secret, webhookSecret, webhookListen string
		plan, region, readRegion             string
		timeout, poll                        time.Duration
		skipSSO                              bool
	)
	cmd := &cobra.Command{
		Use:   "conformance BASE_URL",
		Short: "Check a provider's Fly-facing API against Fly's extension contract",
		Long: `Check a provider's Fly-facing API against Fly's extension provisioning contract.

BASE_URL is the provider's base URL (e.g. https://logjam.io/flyio). The suite
signs its requests itself, from Fly's page, with the shared secret, and checks
the signing contract (bad, stale, replayed, misdirected and unsigned requests
refused, with nothing changed), provisioning within Fly's 5 s window and
polling to ready, idempotent repeats and 409s, PATCH, repeated DELETE, the GET
shape, the billing shape when the endpoint exists, the SSO redirect, and, with
--webhook-listen, the provider's signed webhooks (point the provider's Fly
webhook URL at that address first).

The secrets come from --secret/--webhook-secret, else from ` + envConformanceSecret + `/` +
			envConformanceWebhookSecret + `, else from JETWAY_SHARED_SECRET/JETWAY_WEBHOOK_SECRET
(so ". .jetway/dev.env" is enough under make run). It prints a table
(ID, CHECK, RESULT, REASON) and exits 1 when a check fails. INFO rows are
places where Fly's page is silent and the provider chose differently from
Jetway; they never fail the run. Everything the suite creates is deleted.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			secret = firstSet(secret, os.Getenv(envConformanceSecret), newestSecret(os.Getenv(envSharedSecret)))
			if secret == "" {
				return fmt.Errorf("no shared secret: set --secret or %s", envConformanceSecret)
			}
			if webhookListen != "" {
				webhookSecret = firstSet(webhookSecret, os.Getenv(envConformanceWebhookSecret), os.Getenv("JETWAY_WEBHOOK_SECRET"))
			}
			suite, err := conformance.New(conformance.Config{
				BaseURL: args[0], Secret: []byte(secret), Timeout: timeout, PollInterval: poll,
				Plan: plan, Region: region, ReadRegion: readRegion,
				WebhookListen: webhookListen, WebhookSecret: []byte(webhookSecret), SkipSSO: skipSSO,
			})
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			fmt.Fprintf(cmd.ErrOrStderr(), "Checking %s …\n", args[0])
			rep, runErr := suite.Run(ctx)
			if err := rep.Print(cmd.OutOrStdout()); err != nil {
				return err
			}
			if runErr != nil && !errors.Is(runErr, context.Canceled) {
				return runErr
			}
			if rep.Failed() || runErr != nil {
				return errChecksFailed
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&secret, "secret", "", "shared provisioning secret (env "+envConformanceSecret+")")
	f.StringVar(&webhookListen, "webhook-listen", "", "address for the suite's webhook sink, e.g. 127.0.0.1:4290; the provider must send its webhooks there (empty: webhooks not checked)")
	f.StringVar(&webhookSecret, "webhook-secret", "", "secret the provider signs webhooks with (env "+envConformanceWebhookSecret+")")
	f.StringVar(&plan, "plan", "", "plan to provision (empty: the provider's default)")
	f.StringVar(&region, "region", "iad", "primary region of the resources the suite provisions")
	f.StringVar(&readRegion, "read-region", "ord", "read region the PATCH checks add")
	f.DurationVar(&timeout, "timeout", 4*time.Minute, "longest wait for a resource to be ready, a deletion to finish or a webhook")
	f.DurationVar(&poll, "poll-interval", 2*time.Second, "how often GET is polled while waiting (flyctl: 2 s)")
	f.BoolVar(&skipSSO, "skip-sso", false, "do not check the SSO redirect (a provider without a dashboard)")
	return cmd
}
