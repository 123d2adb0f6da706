package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
)

// rotateWaitPoll is how often --wait reads the Extension; tests shorten it.
var rotateWaitPoll = time.Second

// waitGoal is the step --wait waits for: the CredentialsRotated reasons
// that reach it, for the rotation named by token.
type waitGoal struct {
	token   string
	reasons []string
	what    string
}

// rotationAnnounced is reached once Fly has answered the new config (or the
// previous credentials are revoked already, under AfterOverlap).
func rotationAnnounced(token string) waitGoal {
	return waitGoal{token: token, what: "rotation " + token + " to be announced to Fly", reasons: []string{
		jetwayv1.ReasonAwaitingRevocation, jetwayv1.ReasonAnnouncementFailed, jetwayv1.ReasonRotationComplete,
	}}
}

func revocationDone(token string) waitGoal {
	return waitGoal{token: token, what: "the credentials rotation " + token + " replaced to be revoked", reasons: []string{
		jetwayv1.ReasonRotationComplete,
	}}
}

// reached reports whether ext is at the goal. The rotation must be this
// one: a condition left by the previous rotation says nothing of it.
func (g waitGoal) reached(ext *jetwayv1.Extension, reason string) bool {
	creds := ext.Status.Credentials
	return creds != nil && creds.Rotation != nil && *creds.Rotation == g.token && slices.Contains(g.reasons, reason)
}

// waitForStep polls the Extension until goal is reached, printing each new
// condition message once, and fails naming the last reason at the timeout.
func waitForStep(ctx context.Context, c client.Client, key types.NamespacedName, goal waitGoal, timeout time.Duration, out io.Writer) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	ticker := time.NewTicker(rotateWaitPoll)
	defer ticker.Stop()
	var lastReason, lastMessage string
	for {
		var ext jetwayv1.Extension
		// A failed read is retried at the next tick: one flaky call to the
		// API server should not end a wait of minutes.
		if err := c.Get(ctx, key, &ext); err == nil {
			if cond := meta.FindStatusCondition(ext.Status.Conditions, jetwayv1.ConditionCredentialsRotated); cond != nil {
				lastReason = cond.Reason
				if cond.Message != lastMessage {
					lastMessage = cond.Message
					fmt.Fprintf(out, "%s: %s\n", cond.Reason, cond.Message)
				}
			}
			if goal.reached(&ext, lastReason) {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			if lastReason == "" {
				lastReason = "none (no " + jetwayv1.ConditionCredentialsRotated + " condition yet)"
			}
			return fmt.Errorf("timed out after %s waiting for %s; last reason: %s", timeout, goal.what, lastReason)
		case <-ticker.C:
		}
	}
}
