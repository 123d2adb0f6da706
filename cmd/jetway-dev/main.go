// Command jetway-dev is Jetway's development harness: the whole system on
// one machine (`jetway-dev up`, what `make run` starts), the Fly stand-in on
// its own, Fly's side of the protocol for trying things out, the load
// generator and the chaos run. None of it ships in the image.
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
		Use:           "jetway-dev",
		Short:         "Jetway's development harness: a local stack, a Fly stand-in, Fly's side of the protocol, load and chaos",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newUpCommand(), newFlysimCommand(), newFlyCommand(), newLoadCommand(), newChaosCommand(), newBenchCommand(), newConformanceCommand())
	return root
}
