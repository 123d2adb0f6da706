package main

import (
	"context"
	"errors"
	"net/http"

	"github.com/spf13/cobra"

	"github.com/jetway-dev/jetway/internal/dev/flyside"
)

// newFlyBillingCommand builds `jetway-dev fly billing`: Fly's daily
// billing pull, signed as Fly signs every GET.
func newFlyBillingCommand(cfg *flyConfig) *cobra.Command {
	var org, from, to string
	cmd := &cobra.Command{
		Use:   "billing --org ORG --from YYYY-MM-DD [--to YYYY-MM-DD]",
		Short: "Read an organization's usage by UTC day (GET {gateway}/billing)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if org == "" || from == "" {
				return errors.New("--org and --from are required")
			}
			query := map[string]any{"organization_id": org, "from": from}
			if to != "" {
				query["to"] = to
			}
			return cfg.send(cmd, func(ctx context.Context, c *flyside.Client) (*flyside.Response, error) {
				return c.Do(ctx, http.MethodGet, "/billing", query)
			})
		},
	}
	cmd.Flags().StringVar(&org, "org", "", "Fly organization id")
	cmd.Flags().StringVar(&from, "from", "", "first UTC day, YYYY-MM-DD")
	cmd.Flags().StringVar(&to, "to", "", "last UTC day, YYYY-MM-DD (default: --from); at most 31 days")
	return cmd
}
