package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/jetway-dev/jetway/internal/dev/flyside"
)

const (
	envGatewayURL   = "JETWAY_GATEWAY_URL"
	envSharedSecret = "JETWAY_SHARED_SECRET"
)

// flyConfig holds the persistent flags every `jetway-dev fly` subcommand shares.
type flyConfig struct {
	gatewayURL string
	secret     string
	envFile    string
}

// newFlyCommand builds `jetway-dev fly`: it sends the signed requests Fly.io would
// send, so a developer can drive the gateway by hand exactly as Fly does.
func newFlyCommand() *cobra.Command {
	cfg := &flyConfig{}
	cmd := &cobra.Command{
		Use:   "fly",
		Short: "Send the signed provisioning requests Fly.io would send to the gateway",
		Long: `Send the signed provisioning requests Fly.io would send to the gateway.

The gateway URL and shared secret come from --gateway-url/--secret, else from
JETWAY_GATEWAY_URL/JETWAY_SHARED_SECRET, else from the env file that
"make run" writes (.jetway/dev.env).`,
	}
	pf := cmd.PersistentFlags()
	pf.StringVar(&cfg.gatewayURL, "gateway-url", "", "gateway base URL including the Fly path, e.g. http://127.0.0.1:8080/flyio (env "+envGatewayURL+")")
	pf.StringVar(&cfg.secret, "secret", "", "shared provisioning secret; of a rotation list old,new the last is used (env "+envSharedSecret+")")
	pf.StringVar(&cfg.envFile, "env-file", ".jetway/dev.env", "KEY=VALUE file to read the gateway URL and secret from when not set otherwise")
	cmd.AddCommand(newFlyCreateCommand(cfg), newFlyGetCommand(cfg), newFlyUpdateCommand(cfg), newFlyDeleteCommand(cfg))
	cmd.AddCommand(newFlyWebhooksCommand(cfg), newFlyBillingCommand(cfg), newFlyChecksCommand(cfg))
	return cmd
}

func newFlyCreateCommand(cfg *flyConfig) *cobra.Command {
	var (
		id, name, orgID, orgName, userID, userEmail, userRole string
		primaryRegion, ipAddress, plan                        string
		readRegions, options                                  []string
	)
	cmd := &cobra.Command{
		Use:   "create --id ID --name NAME --org-id ORG",
		Short: "Provision an extension (POST {gateway}/extensions)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if userRole != "admin" && userRole != "member" {
				return fmt.Errorf("--user-role must be admin or member, not %q", userRole)
			}
			if !cmd.Flags().Changed("user-id") {
				userID = "user-" + orgID
			}
			opts, err := parseOptions(options)
			if err != nil {
				return err
			}
			// Fly's field names (docs, "Provisioning Request"). Fields Fly always
			// sends go out even when empty; optional ones only when given.
			body := map[string]any{
				"name":            name,
				"id":              id,
				"organization_id": orgID,
				"user_id":         userID,
				"user_role":       userRole,
				"primary_region":  primaryRegion,
				"read_regions":    nonNil(readRegions),
			}
			for field, v := range map[string]string{
				"organization_name": orgName, "user_email": userEmail, "ip_address": ipAddress, "plan": plan,
			} {
				if v != "" {
					body[field] = v
				}
			}
			if opts != nil {
				body["options"] = opts
			}
			return cfg.send(cmd, func(ctx context.Context, c *flyside.Client) (*flyside.Response, error) {
				return c.Create(ctx, body)
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&id, "id", "", "Fly's extension id (required)")
	f.StringVar(&name, "name", "", "extension name (required)")
	f.StringVar(&orgID, "org-id", "", "Fly organization id (required)")
	f.StringVar(&orgName, "org-name", "", "organization display name")
	f.StringVar(&userID, "user-id", "", `provisioning user's id (default "user-" + org id)`)
	f.StringVar(&userEmail, "user-email", "", "provisioning user's email alias")
	f.StringVar(&userRole, "user-role", "admin", "provisioning user's role: admin or member")
	f.StringVar(&primaryRegion, "primary-region", "iad", "primary Fly region")
	f.StringSliceVar(&readRegions, "read-regions", nil, "read replica regions, comma separated")
	f.StringVar(&ipAddress, "ip-address", "", "IPv6 address Fly allocated on the customer network")
	f.StringVar(&plan, "plan", "", "plan name")
	f.StringArrayVar(&options, "option", nil, "extension option key=value (repeatable)")
	for _, req := range []string{"id", "name", "org-id"} {
		_ = cmd.MarkFlagRequired(req) // cannot fail: the flags exist
	}
	return cmd
}

func newFlyGetCommand(cfg *flyConfig) *cobra.Command {
	return &cobra.Command{
		Use:   "get ID",
		Short: "Read an extension (GET {gateway}/extensions/ID)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return cfg.send(cmd, func(ctx context.Context, c *flyside.Client) (*flyside.Response, error) {
				return c.Get(ctx, args[0])
			})
		},
	}
}

func newFlyUpdateCommand(cfg *flyConfig) *cobra.Command {
	var (
		plan                 string
		readRegions, options []string
	)
	cmd := &cobra.Command{
		Use:   "update ID [--read-regions a,b] [--plan P] [--option k=v]",
		Short: "Change an extension (PATCH {gateway}/extensions/ID)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			// Only what was asked for: an absent field means "unchanged" to
			// the gateway, while --read-regions "" means "no read replicas".
			fields := map[string]any{}
			if cmd.Flags().Changed("read-regions") {
				fields["read_regions"] = nonNil(readRegions)
			}
			if cmd.Flags().Changed("plan") {
				fields["plan"] = plan
			}
			if cmd.Flags().Changed("option") {
				opts, err := parseOptions(options)
				if err != nil {
					return err
				}
				fields["options"] = opts
			}
			return cfg.send(cmd, func(ctx context.Context, c *flyside.Client) (*flyside.Response, error) {
				return c.Update(ctx, args[0], fields)
			})
		},
	}
	f := cmd.Flags()
	f.StringSliceVar(&readRegions, "read-regions", nil, `read replica regions, comma separated ("" for none)`)
	f.StringVar(&plan, "plan", "", "plan name")
	f.StringArrayVar(&options, "option", nil, "extension option key=value (repeatable)")
	return cmd
}

func newFlyDeleteCommand(cfg *flyConfig) *cobra.Command {
	return &cobra.Command{
		Use:   "delete ID",
		Short: "Remove an extension (DELETE {gateway}/extensions/ID)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return cfg.send(cmd, func(ctx context.Context, c *flyside.Client) (*flyside.Response, error) {
				return c.Delete(ctx, args[0])
			})
		},
	}
}

// send builds the client, makes one call, prints the answer and turns a
// non-2xx answer into an error so scripts can check the exit status.
func (cfg *flyConfig) send(cmd *cobra.Command, call func(context.Context, *flyside.Client) (*flyside.Response, error)) error {
	// Past flag parsing, a usage dump would only hide the real error.
	cmd.SilenceUsage = true
	client, err := cfg.client(cmd)
	if err != nil {
		return err
	}
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	resp, err := call(ctx, client)
	if err != nil {
		return err
	}
	if err := printResponse(cmd.OutOrStdout(), resp); err != nil {
		return err
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("gateway answered HTTP %d", resp.StatusCode)
	}
	return nil
}

// client resolves the gateway URL and secret: flag, then environment, then
// the env file. The file is read only when something is still missing, and a
// missing file is an error only if --env-file was given explicitly.
func (cfg *flyConfig) client(cmd *cobra.Command) (*flyside.Client, error) {
	baseURL := firstSet(cfg.gatewayURL, os.Getenv(envGatewayURL))
	secret := firstSet(cfg.secret, os.Getenv(envSharedSecret))
	if baseURL == "" || secret == "" {
		vals, err := flyside.ReadEnvFile(cfg.envFile)
		switch {
		case errors.Is(err, fs.ErrNotExist) && !cmd.Flags().Changed("env-file"):
		case err != nil:
			return nil, err
		default:
			baseURL = firstSet(baseURL, vals[envGatewayURL])
			secret = firstSet(secret, vals[envSharedSecret])
		}
	}
	if baseURL == "" {
		return nil, fmt.Errorf("no gateway URL: pass --gateway-url, set %s, or start the dev stack (make run) so that %s exists", envGatewayURL, cfg.envFile)
	}
	if secret == "" {
		return nil, fmt.Errorf("no shared secret: pass --secret, set %s, or start the dev stack (make run) so that %s exists", envSharedSecret, cfg.envFile)
	}
	return &flyside.Client{BaseURL: baseURL, Secret: []byte(newestSecret(secret))}, nil
}

// newestSecret picks the signing secret from a value that may hold the
// gateway's rotation list "old,new" (see parseSecrets): Fly signs with the
// new one, and the gateway accepts either.
func newestSecret(v string) string {
	parts := strings.Split(v, ",")
	for i := len(parts) - 1; i >= 0; i-- {
		if s := strings.TrimSpace(parts[i]); s != "" {
			return s
		}
	}
	return v
}

// printResponse writes "HTTP <code>" and the body, indented when it is JSON.
func printResponse(w io.Writer, resp *flyside.Response) error {
	var out bytes.Buffer
	fmt.Fprintf(&out, "HTTP %d\n", resp.StatusCode)
	body := bytes.TrimSpace(resp.Body)
	if len(body) > 0 {
		if err := json.Indent(&out, body, "", "  "); err != nil {
			out.Write(body) // not JSON: show it as it came
		}
		out.WriteByte('\n')
	}
	if _, err := w.Write(out.Bytes()); err != nil {
		return fmt.Errorf("print response: %w", err)
	}
	return nil
}

// parseOptions turns repeated --option key=value flags into Fly's "options"
// object; nil when none were given. Values stay strings: the CLI cannot know
// what type a provider expects.
func parseOptions(pairs []string) (map[string]string, error) {
	if len(pairs) == 0 {
		return nil, nil
	}
	opts := make(map[string]string, len(pairs))
	for _, p := range pairs {
		k, v, ok := strings.Cut(p, "=")
		if !ok || strings.TrimSpace(k) == "" {
			return nil, fmt.Errorf("--option %q: want key=value", p)
		}
		opts[strings.TrimSpace(k)] = v
	}
	return opts, nil
}

// nonNil makes an unset list marshal as [] rather than null.
func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func firstSet(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}
