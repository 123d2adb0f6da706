package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/spf13/cobra"

	"github.com/jetway-dev/jetway/internal/dev/flysim"
)

const checkFailuresPath = "/flysim/v1/check-failures"

// newFlyChecksCommand builds `jetway-dev fly checks`: the machine health
// check failures flysim (the Fly stand-in) is injecting, shown and changed
// through its control API, to watch how Jetway deals with a bad image or
// a sick machine.
func newFlyChecksCommand(cfg *flyConfig) *cobra.Command {
	var simURL, simToken string
	// call reads or replaces the failures in force and prints the answer.
	call := func(cmd *cobra.Command, change func(*flysim.CheckFailures)) error {
		cmd.SilenceUsage = true
		base, token, err := cfg.flysimTarget(cmd, simURL, simToken)
		if err != nil {
			return err
		}
		ctx := cmd.Context()
		if ctx == nil {
			ctx = context.Background()
		}
		raw, err := flysimControl(ctx, base, token, http.MethodGet, checkFailuresPath, nil)
		if err == nil && change != nil {
			var f flysim.CheckFailures
			if err := json.Unmarshal(raw, &f); err != nil {
				return fmt.Errorf("flysim's check failures are not what this command expects: %w", err)
			}
			change(&f)
			body, _ := json.Marshal(f) // plain strings: cannot fail
			raw, err = flysimControl(ctx, base, token, http.MethodPut, checkFailuresPath, body)
		}
		if err != nil {
			return err
		}
		var out bytes.Buffer
		if err := json.Indent(&out, bytes.TrimSpace(raw), "", "  "); err != nil {
			return fmt.Errorf("flysim's answer is not JSON: %w", err)
		}
		_, err = fmt.Fprintf(cmd.OutOrStdout(), "%s\n", out.Bytes())
		return err
	}

	cmd := &cobra.Command{
		Use:   "checks",
		Short: "Show the machine health-check failures flysim (the Fly stand-in) injects",
		Long: `Show, add or clear the machine health-check failures flysim injects
(GET/PUT /flysim/v1/check-failures). A failing machine stays started, but
its checks report critical once past their grace period, as a machine on a
bad image does on Fly.

flysim's URL and token come from --flysim-url/--flysim-token, else from
FLYSIM_URL/FLYSIM_TOKEN, else from the env file that "make run" writes
(.jetway/dev.env).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return call(cmd, nil) },
	}
	pf := cmd.PersistentFlags()
	pf.StringVar(&simURL, "flysim-url", "", "flysim base URL, e.g. http://127.0.0.1:4280 (env "+envFlysimURL+")")
	pf.StringVar(&simToken, "flysim-token", "", "flysim bearer token (env "+envFlysimToken+")")

	var images, machines []string
	fail := &cobra.Command{
		Use:   "fail [--image IMAGE]... [--machine APP/ID]...",
		Short: "Fail the checks of every machine on an image, or of given machines",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if len(images) == 0 && len(machines) == 0 {
				return errors.New("name at least one --image or --machine")
			}
			var refs []flysim.MachineRef
			for _, m := range machines {
				app, id, ok := strings.Cut(m, "/")
				if !ok || app == "" || id == "" {
					return fmt.Errorf("--machine %q: want APP/ID", m)
				}
				refs = append(refs, flysim.MachineRef{App: app, ID: id})
			}
			return call(cmd, func(f *flysim.CheckFailures) {
				f.Images = append(f.Images, images...)
				f.Machines = append(f.Machines, refs...)
			})
		},
	}
	fail.Flags().StringArrayVar(&images, "image", nil, "image reference, exactly as in the machine's config.image (repeatable)")
	fail.Flags().StringArrayVar(&machines, "machine", nil, "machine as APP/ID (repeatable)")

	clearCmd := &cobra.Command{
		Use:   "clear",
		Short: "Lift every check failure: checks past their grace period pass again",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return call(cmd, func(f *flysim.CheckFailures) { *f = flysim.CheckFailures{} })
		},
	}
	cmd.AddCommand(fail, clearCmd)
	return cmd
}
