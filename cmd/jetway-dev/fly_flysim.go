package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/jetway-dev/jetway/internal/dev/flyside"
)

// Reaching flysim's control API (/flysim/v1/...) from the `jetway-dev fly`
// subcommands that read or change the Fly stand-in rather than the gateway.

const (
	envFlysimURL   = "FLYSIM_URL"
	envFlysimToken = "FLYSIM_TOKEN"
)

// flysimTarget resolves flysim's URL and token: flag, then environment,
// then the env file, read only when something is still missing (a missing
// file is an error only if --env-file was given), as for the gateway.
func (cfg *flyConfig) flysimTarget(cmd *cobra.Command, flagURL, flagToken string) (string, string, error) {
	base := firstSet(flagURL, os.Getenv(envFlysimURL))
	token := firstSet(flagToken, os.Getenv(envFlysimToken))
	if base == "" || token == "" {
		vals, err := flyside.ReadEnvFile(cfg.envFile)
		switch {
		case errors.Is(err, fs.ErrNotExist) && !cmd.Flags().Changed("env-file"):
		case err != nil:
			return "", "", err
		default:
			base = firstSet(base, vals[envFlysimURL])
			token = firstSet(token, vals[envFlysimToken])
		}
	}
	if base == "" {
		return "", "", fmt.Errorf("no flysim URL: pass --flysim-url, set %s, or start the dev stack (make run) so that %s exists", envFlysimURL, cfg.envFile)
	}
	if token == "" {
		return "", "", fmt.Errorf("no flysim token: pass --flysim-token, set %s, or start the dev stack (make run) so that %s exists", envFlysimToken, cfg.envFile)
	}
	return strings.TrimRight(base, "/"), token, nil
}

// flysimControl makes one request to flysim's control API and returns the
// body of a 200; any other answer is an error that quotes it.
func flysimControl(ctx context.Context, base, token, method, path string, body []byte) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, base+path, rd)
	if err != nil {
		return nil, fmt.Errorf("flysim URL %q: %w", base, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	// flysim takes "Bearer <token>" or "FlyV1 <token>"; a token that already
	// names its scheme goes as it is.
	if scheme, _, ok := strings.Cut(token, " "); ok && (strings.EqualFold(scheme, "Bearer") || strings.EqualFold(scheme, "FlyV1")) {
		req.Header.Set("Authorization", token)
	} else {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s on flysim: %w", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("read flysim's answer to %s %s: %w", method, path, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("flysim answered HTTP %d to %s %s: %s", resp.StatusCode, method, path, bytes.TrimSpace(raw))
	}
	return raw, nil
}
