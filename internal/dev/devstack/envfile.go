package devstack

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"sort"
	"strings"
)

// Names of the variables in .jetway/dev.env.
const (
	EnvGatewayURL    = "JETWAY_GATEWAY_URL"
	EnvSharedSecret  = "JETWAY_SHARED_SECRET"
	EnvWebhookSecret = "JETWAY_WEBHOOK_SECRET"
	EnvFlysimURL     = "FLYSIM_URL"
	EnvFlysimToken   = "FLYSIM_TOKEN"
	EnvFlysimOrg     = "FLYSIM_ORG"
	EnvKubeconfig    = "KUBECONFIG"
	// EnvOAuthSecret is Jetway's OAuth client secret at flysim's OAuth
	// server; EnvSessionSecret seals dashboard cookies. Kept across
	// restarts so signed-in browsers stay signed in.
	EnvOAuthSecret   = "JETWAY_OAUTH_CLIENT_SECRET"
	EnvSessionSecret = "JETWAY_SESSION_SECRET"
	// EnvDNSAddr is where the dev DNS server answers the extensions' zone
	// (host:port); empty when it is off.
	EnvDNSAddr = "JETWAY_DEV_DNS_ADDR"
)

// ReadEnvFile reads KEY=VALUE lines; a missing file is an empty map.
func ReadEnvFile(path string) (map[string]string, error) {
	out := map[string]string{}
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return out, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(strings.TrimPrefix(line, "export "), "=")
		if ok {
			out[strings.TrimSpace(k)] = strings.Trim(strings.TrimSpace(v), `"'`)
		}
	}
	return out, sc.Err()
}

// WriteEnvFile writes vars as `export KEY="VALUE"` lines, readable by the
// shell (`source .jetway/dev.env`) and by `jetway-dev fly`. The file holds
// secrets, so only its owner may read it.
func WriteEnvFile(path string, vars map[string]string) error {
	keys := make([]string, 0, len(vars))
	for k := range vars {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString("# Written by `jetway-dev up`. Source it: . .jetway/dev.env\n")
	for _, k := range keys {
		fmt.Fprintf(&b, "export %s=%q\n", k, vars[k])
	}
	return os.WriteFile(path, []byte(b.String()), 0o600)
}

// RandomSecret returns 32 random bytes as hex.
func RandomSecret() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("read random: %v", err))
	}
	return hex.EncodeToString(b)
}
