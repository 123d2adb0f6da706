package manager

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// BindEnv lets every flag be set by an environment variable: JETWAY_ plus
// the flag name in upper case with dashes as underscores, unless a name is
// given. A flag on the command line wins over the environment.
func BindEnv(cmd *cobra.Command, names map[string]string) error {
	var firstErr error
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if f.Changed || f.Name == "help" {
			return
		}
		env := names[f.Name]
		if env == "" {
			env = "JETWAY_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		}
		if v, ok := os.LookupEnv(env); ok {
			if err := f.Value.Set(v); err != nil && firstErr == nil {
				firstErr = fmt.Errorf("environment variable %s: %w", env, err)
			}
		}
	})
	return firstErr
}

// EnvHelp appends the environment variable to each flag's usage.
func EnvHelp(cmd *cobra.Command, names map[string]string) {
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if f.Name == "help" {
			return
		}
		env := names[f.Name]
		if env == "" {
			env = "JETWAY_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		}
		f.Usage += " [$" + env + "]"
	})
}
