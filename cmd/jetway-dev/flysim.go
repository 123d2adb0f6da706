package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/jetway-dev/jetway/internal/manager"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/jetway-dev/jetway/internal/dev/flysim"
)

func newFlysimCommand() *cobra.Command {
	var (
		addr     string
		token    string
		org      string
		bootTime time.Duration
		latency  time.Duration
		faults   flysim.Faults
		webhook  string
		events   string
		evSecret string
		idle     time.Duration
		oauth    oauthFlags
	)
	envNames := map[string]string{
		"token": "FLYSIM_TOKEN", "webhook-secret": "FLYSIM_WEBHOOK_SECRET", "events-secret": "FLYSIM_EVENTS_SECRET",
		// FLYSIM_, not the default JETWAY_: dev.env gives Jetway's own OAuth
		// client settings JETWAY_ names, and a shell that sourced it must not
		// configure flysim by accident.
		"oauth-client-id": "FLYSIM_OAUTH_CLIENT_ID", "oauth-client-secret": "FLYSIM_OAUTH_CLIENT_SECRET",
		"oauth-redirect-uri": "FLYSIM_OAUTH_REDIRECT_URI", "oauth-users": "FLYSIM_OAUTH_USERS",
	}
	cmd := &cobra.Command{
		Use:   "flysim",
		Short: "Run the Fly Machines API stand-in on its own",
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := manager.BindEnv(cmd, envNames); err != nil {
				return err
			}
			if token == "" {
				return errors.New("--token (or $FLYSIM_TOKEN) is required: clients must send it as a bearer token")
			}
			if err := faults.Validate(); err != nil {
				return fmt.Errorf("faults: %w", err)
			}
			if err := flysim.ValidateEventsURL(events); err != nil {
				return fmt.Errorf("--events-url: %w", err)
			}
			if idle < 0 {
				return errors.New("--idle-after must not be negative (0 turns autostop off)")
			}
			oauthOpts, err := oauth.options()
			if err != nil {
				return err
			}
			sim := flysim.New(flysim.Options{
				Token: token, OrgSlug: org, BootTime: bootTime, Latency: latency, Faults: faults, WebhookSecret: webhook,
				EventsURL: events, EventsSecret: evSecret, IdleAfter: idle, OAuth: oauthOpts,
			})
			defer sim.Close()
			srv := &http.Server{Addr: addr, Handler: sim, ReadHeaderTimeout: 10 * time.Second}
			ctx := ctrl.SetupSignalHandler()
			go func() {
				<-ctx.Done()
				shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				_ = srv.Shutdown(shutdown)
			}()
			// The seed in force is printed so a run that failed can be replayed
			// with --seed.
			f := sim.Faults()
			fmt.Fprintf(cmd.OutOrStdout(),
				"flysim listening on http://%s (org %s; boot %s; latency %s + p50 %s p95 %s; "+
					"server errors %g, hangs %g for %s, lost responses %g, capacity errors %g, crashes %g; seed %d; "+
					"faults at /flysim/v1/faults)\n",
				addr, org, bootTime, latency, f.LatencyP50, f.LatencyP95,
				f.ServerErrorRate, f.HangRate, f.HangFor, f.LostResponseRate, f.CapacityErrorRate, f.CrashRate, f.Seed)
			if webhook == "" {
				fmt.Fprintln(cmd.OutOrStdout(), "webhooks to /api/hooks/extensions/{provider} answer 503: no --webhook-secret")
			} else {
				fmt.Fprintln(cmd.OutOrStdout(), "webhooks accepted at /api/hooks/extensions/{provider}; see them with `jetway-dev fly webhooks`")
			}
			switch {
			case events == "":
				fmt.Fprintln(cmd.OutOrStdout(), "machine events: off (no --events-url; PUT /flysim/v1/events turns them on)")
			case evSecret == "":
				fmt.Fprintf(cmd.OutOrStdout(), "machine events to %s, UNSIGNED (no --events-secret): a provider will reject them\n", events)
			default:
				fmt.Fprintf(cmd.OutOrStdout(), "machine events to %s, signed (duplicates %g)\n", events, f.DuplicateEventRate)
			}
			if idle > 0 {
				fmt.Fprintf(cmd.OutOrStdout(), "autostop: machines with autostop services stop after %s without traffic (POST /flysim/v1/apps/{app}/traffic)\n", idle)
			} else {
				fmt.Fprintln(cmd.OutOrStdout(), "autostop: off (--idle-after 0)")
			}
			fmt.Fprintln(cmd.OutOrStdout(), "health checks: pass after their grace period; fail them by image or machine with `jetway-dev fly checks fail` (PUT /flysim/v1/check-failures)")
			if oauthOpts == nil {
				fmt.Fprintln(cmd.OutOrStdout(), "OAuth: off (no --oauth-client-id)")
			} else {
				fmt.Fprintf(cmd.OutOrStdout(), "OAuth: sign in at http://%s/oauth/authorize (client %s, redirect URIs %s, %d users); tokens at /oauth/token, user info at /oauth/token/info\n",
					addr, oauth.clientID, strings.Join(oauth.redirectURIs, " "), len(oauthOpts.Users))
			}
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
	fs.DurationVar(&latency, "latency", 0, "Fixed latency added to every request (on top of --latency-p50/p95)")
	fs.DurationVar(&faults.LatencyP50, "latency-p50", 200*time.Millisecond, "Median of the random per-request latency (0 with --latency-p95 0: none)")
	fs.DurationVar(&faults.LatencyP95, "latency-p95", 750*time.Millisecond, "95th percentile of the random per-request latency")
	fs.Float64Var(&faults.ServerErrorRate, "server-error-rate", 0, "Probability a request gets a 500/502/503 without being acted on")
	fs.Float64Var(&faults.HangRate, "hang-rate", 0, "Probability a request hangs until the client gives up (or 65s, then 504)")
	fs.Float64Var(&faults.LostResponseRate, "lost-response-rate", 0, "Probability a committed create/destroy/delete/IP assign loses its response")
	fs.Float64Var(&faults.AbandonedActRate, "abandoned-act-rate", 0, "Probability a hung create/destroy/delete/IP assign whose client went away is carried out when the hang would have ended")
	fs.Float64Var(&faults.CapacityErrorRate, "capacity-error-rate", 0, "Probability a machine create/update/start fails for capacity")
	fs.Float64Var(&faults.CrashRate, "crash-rate", 0, "Probability a started machine later crashes into state failed")
	fs.Int64Var(&faults.Seed, "seed", 0, "Seed for latency and faults (0: from the clock; the one used is printed)")
	fs.Float64Var(&faults.DuplicateEventRate, "duplicate-event-rate", 0, "Probability a machine event is delivered twice (same ce-id)")
	fs.StringVar(&events, "events-url", "", "Provider endpoint machine events are POSTed to as CloudEvents (e.g. http://127.0.0.1:8080/flyio/extensions/events); empty: none")
	fs.StringVar(&evSecret, "events-secret", "", "Shared provisioning secret machine events are signed with (X-Signature); empty: unsigned")
	fs.DurationVar(&idle, "idle-after", 30*time.Second, "Fly proxy autostop: stop/suspend machines whose services have autostop after this long without traffic (0: off)")
	fs.StringVar(&webhook, "webhook-secret", "", "Secret providers sign webhooks to Fly with (POST /api/hooks/extensions/{provider}); empty: that endpoint answers 503")
	fs.StringVar(&oauth.clientID, "oauth-client-id", "", "Client id of the one OAuth application Fly's OAuth server (/oauth/...) knows; empty: OAuth off")
	fs.StringVar(&oauth.clientSecret, "oauth-client-secret", "", "Client secret of that OAuth application")
	fs.StringSliceVar(&oauth.redirectURIs, "oauth-redirect-uri", nil, "A redirect URI registered for that application, matched exactly (repeatable)")
	fs.StringVar(&oauth.usersPath, "oauth-users", "", "JSON file with the users who can sign in: [{\"id\",\"name\",\"email\",\"organizations\":[{\"id\",\"role\"}]}]; empty: three dev users")
	manager.EnvHelp(cmd, envNames)
	return cmd
}

// oauthFlags are the flysim command's settings for Fly's OAuth server.
type oauthFlags struct {
	clientID, clientSecret string
	redirectURIs           []string
	usersPath              string
}

// options turns the flags into flysim's options: nil (OAuth off) without a
// client id.
func (f oauthFlags) options() (*flysim.OAuthOptions, error) {
	if f.clientID == "" {
		if f.clientSecret != "" || len(f.redirectURIs) > 0 || f.usersPath != "" {
			return nil, errors.New("--oauth-client-secret, --oauth-redirect-uri and --oauth-users need --oauth-client-id")
		}
		return nil, nil
	}
	if f.clientSecret == "" {
		return nil, errors.New("--oauth-client-id needs --oauth-client-secret (or $FLYSIM_OAUTH_CLIENT_SECRET)")
	}
	if len(f.redirectURIs) == 0 {
		return nil, errors.New("--oauth-client-id needs at least one --oauth-redirect-uri")
	}
	users := flysim.DefaultOAuthUsers()
	if f.usersPath != "" {
		var err error
		if users, err = readOAuthUsers(f.usersPath); err != nil {
			return nil, fmt.Errorf("--oauth-users: %w", err)
		}
	}
	o := &flysim.OAuthOptions{
		Clients: []flysim.OAuthClient{{ID: f.clientID, Secret: f.clientSecret, RedirectURIs: f.redirectURIs}},
		Users:   users,
	}
	if err := o.Validate(); err != nil {
		return nil, fmt.Errorf("OAuth settings: %w", err)
	}
	return o, nil
}

// readOAuthUsers reads a JSON array of users. Unknown fields are refused:
// a misspelt "organisations" would otherwise leave a user in no org.
func readOAuthUsers(path string) ([]flysim.OAuthUser, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var users []flysim.OAuthUser
	if err := dec.Decode(&users); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%s: trailing data after the array", path)
	}
	if len(users) == 0 {
		return nil, fmt.Errorf("%s: no users", path)
	}
	return users, nil
}
