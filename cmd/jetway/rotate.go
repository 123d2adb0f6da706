package main

import (
	"errors"
	"time"

	"github.com/spf13/cobra"
)

// rotateOptions are the flags of `jetway rotate`.
type rotateOptions struct {
	name       string
	namespace  string
	flyID      string
	revoke     bool
	wait       time.Duration
	kubeconfig string
}

func newRotateCommand() *cobra.Command {
	var o rotateOptions
	cmd := &cobra.Command{
		Use:   "rotate (NAME -n NAMESPACE | --id FLY_ID) [--revoke] [--wait DURATION]",
		Short: "Rotate an extension's credentials, or confirm revoking the ones a rotation replaced",
		Long: `Ask the manager to rotate an Extension's credentials. The command only writes
annotations on the Extension (jetway.dev/rotate-credentials, or with --revoke
jetway.dev/revoke-previous-credentials); the manager carries them out. It never
reads Secrets or prints a password: it needs get, list and patch on extensions.

A rotation restarts the machines onto a new password, accepting the old one
too, then sends Fly resource.updated with the new config. The old password stays
valid until you confirm with --revoke (or, if the plan's rotation says
AfterOverlap, until its overlap window ends). A new rotation is refused while
the last one is not carried out or its old password is not revoked yet.

--wait polls until the step is reached: AwaitingRevocation, AnnouncementFailed
or RotationComplete for a rotation, RotationComplete for --revoke.`,
		Example: `  jetway rotate my-db -n org-acme
  jetway rotate --id ext_1234 --wait 10m
  jetway rotate --revoke my-db -n org-acme --wait 10m`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				o.name = args[0]
			}
			if err := o.validate(); err != nil {
				return err
			}
			return runRotate(cmd.Context(), cmd.OutOrStdout(), o)
		},
	}
	fs := cmd.Flags()
	fs.StringVarP(&o.namespace, "namespace", "n", "", "Namespace of the Extension NAME (with --id: search only there)")
	fs.StringVar(&o.flyID, "id", "", "Find the Extension by Fly's id (spec.id) across all namespaces, instead of NAME")
	fs.BoolVar(&o.revoke, "revoke", false, "Confirm that the credentials the current rotation replaced may stop working")
	fs.DurationVar(&o.wait, "wait", 0, "After writing, wait up to this long for the step to be reached (0: do not wait)")
	fs.StringVar(&o.kubeconfig, "kubeconfig", "", "Path to a kubeconfig (default: $KUBECONFIG, ~/.kube/config or in-cluster)")
	return cmd
}

func (o rotateOptions) validate() error {
	switch {
	case o.name != "" && o.flyID != "":
		return errors.New("give either NAME or --id, not both")
	case o.name == "" && o.flyID == "":
		return errors.New("give the Extension's NAME (with -n NAMESPACE) or --id FLY_ID")
	case o.name != "" && o.namespace == "":
		return errors.New("-n NAMESPACE is required with NAME")
	case o.wait < 0:
		return errors.New("--wait must not be negative")
	}
	return nil
}
