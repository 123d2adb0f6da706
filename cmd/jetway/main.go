// Command jetway is Jetway's single binary: the manager that runs in a
// cluster, the local dev stack, the Fly stand-in, and Fly's side of the
// protocol for trying things out.
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
	root.AddCommand(newManagerCommand(), newDevCommand(), newFlysimCommand(), newFlyCommand(), newVersionCommand())
	root.AddCommand(newChaosCommand(), newLoadCommand())
	return root
}
