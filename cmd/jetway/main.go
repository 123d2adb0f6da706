// Command jetway is the binary the container image ships: the manager that
// runs in a cluster (the Fly-facing gateway, the controllers and the
// dashboard). It links none of the development harness; the Fly stand-in,
// the local stack, chaos and load live in cmd/jetway-dev.
package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

func main() {
	if err := newRootCommand().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "Error:", err)
		os.Exit(1)
	}
}

func newRootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:           "jetway",
		Short:         "A control plane for Fly.io extension providers",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newManagerCommand(), newRotateCommand(), newVersionCommand())
	return root
}
