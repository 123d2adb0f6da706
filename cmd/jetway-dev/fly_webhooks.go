package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/jetway-dev/jetway/internal/dev/flysim"
)

// newFlyWebhooksCommand builds `jetway-dev fly webhooks`: what the Fly
// stand-in received on its webhook endpoint, read from its control API.
func newFlyWebhooksCommand(cfg *flyConfig) *cobra.Command {
	var (
		simURL, simToken string
		asJSON           bool
	)
	cmd := &cobra.Command{
		Use:   "webhooks",
		Short: "Show the webhooks flysim (the Fly stand-in) received from Jetway",
		Long: `Show the webhooks flysim (the Fly stand-in) received from Jetway on
POST /api/hooks/extensions/{provider}: every accepted delivery in order, a
"dup" mark on those whose delivery_id was accepted before, the counts, and
the last rejections with their reasons.

flysim's URL and token come from --flysim-url/--flysim-token, else from
FLYSIM_URL/FLYSIM_TOKEN, else from the env file that "make run" writes
(.jetway/dev.env).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cmd.SilenceUsage = true
			base, token, err := cfg.flysimTarget(cmd, simURL, simToken)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			if ctx == nil {
				ctx = context.Background()
			}
			raw, err := fetchWebhooks(ctx, base, token)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if asJSON {
				raw = bytes.TrimRight(raw, "\n")
				_, err := fmt.Fprintf(out, "%s\n", raw)
				return err
			}
			return printWebhooks(out, raw)
		},
	}
	f := cmd.Flags()
	f.StringVar(&simURL, "flysim-url", "", "flysim base URL, e.g. http://127.0.0.1:4280 (env "+envFlysimURL+")")
	f.StringVar(&simToken, "flysim-token", "", "flysim bearer token (env "+envFlysimToken+")")
	f.BoolVar(&asJSON, "json", false, "print flysim's answer as raw JSON")
	return cmd
}

// fetchWebhooks GETs /flysim/v1/webhooks and returns the body of a 200.
func fetchWebhooks(ctx context.Context, base, token string) ([]byte, error) {
	return flysimControl(ctx, base, token, http.MethodGet, "/flysim/v1/webhooks", nil)
}

// webhooksAnswer is the body of GET /flysim/v1/webhooks.
type webhooksAnswer struct {
	Deliveries       []flysim.WebhookDelivery `json:"deliveries"`
	Accepted         int                      `json:"accepted"`
	Rejected         int                      `json:"rejected"`
	FailedOnPurpose  int                      `json:"failed_on_purpose"`
	RecentRejections []struct {
		At       time.Time `json:"at"`
		Provider string    `json:"provider"`
		Status   int       `json:"status"`
		Error    string    `json:"error"`
		Message  string    `json:"message"`
	} `json:"recent_rejections"`
}

const webhookTimeFormat = "2006-01-02 15:04:05.000"

// printWebhooks renders the deliveries as a table, then the counts and the
// recent rejections.
func printWebhooks(w io.Writer, raw []byte) error {
	var in webhooksAnswer
	if err := json.Unmarshal(raw, &in); err != nil {
		return fmt.Errorf("flysim's webhooks are not what this command expects: %w", err)
	}
	var out bytes.Buffer
	tw := tabwriter.NewWriter(&out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "RECEIVED\tDELIVERY\tACTION\tRESOURCE\tSTATUS\t")
	for _, d := range in.Deliveries {
		status, _ := d.Resource["status"].(string)
		dup := ""
		if d.Duplicate {
			dup = "dup"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", d.ReceivedAt.Local().Format(webhookTimeFormat),
			d.DeliveryID, d.Action, d.ResourceID, orDash(status), dup)
	}
	tw.Flush()
	fmt.Fprintf(&out, "\n%d accepted, %d rejected, %d failed on purpose\n", in.Accepted, in.Rejected, in.FailedOnPurpose)
	if len(in.RecentRejections) > 0 {
		fmt.Fprintf(&out, "\nLast %d rejections:\n", len(in.RecentRejections))
		tw = tabwriter.NewWriter(&out, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "AT\tPROVIDER\tHTTP\tERROR\tMESSAGE")
		for _, r := range in.RecentRejections {
			fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\n", r.At.Local().Format(webhookTimeFormat), r.Provider, r.Status, r.Error, r.Message)
		}
		tw.Flush()
	}
	if _, err := w.Write(out.Bytes()); err != nil {
		return fmt.Errorf("print webhooks: %w", err)
	}
	return nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
