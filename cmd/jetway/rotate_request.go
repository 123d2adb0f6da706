package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
)

// runRotate writes the annotation asked for, then waits if told to.
func runRotate(ctx context.Context, out io.Writer, o rotateOptions) error {
	if ctx == nil {
		ctx = context.Background()
	}
	c, err := newRotateClient(o.kubeconfig)
	if err != nil {
		return err
	}
	key, err := findExtension(ctx, c, o)
	if err != nil {
		return err
	}
	var (
		token string
		goal  waitGoal
		wait  = o.wait
	)
	if o.revoke {
		var done bool
		token, done, err = confirmRevocation(ctx, c, key, out)
		if done {
			wait = 0
		}
		goal = revocationDone(token)
	} else {
		token, err = requestRotation(ctx, c, key, out)
		goal = rotationAnnounced(token)
	}
	if err != nil || wait == 0 {
		return err
	}
	return waitForStep(ctx, c, key, goal, wait, out)
}

// newRotationToken is a value of jetway.dev/rotate-credentials: when it was
// asked for, readable in `kubectl get -o yaml`, and random so two operators
// asking in the same second still ask for two rotations.
func newRotationToken(now time.Time) (string, error) {
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return "r" + now.UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b), nil
}

// requestRotation sets a new rotation token, unless a rotation is still in
// progress. Each attempt re-reads the Extension and checks again, so a
// rotation someone else asked for in between is not overwritten.
func requestRotation(ctx context.Context, c client.Client, key types.NamespacedName, out io.Writer) (string, error) {
	token, err := newRotationToken(time.Now())
	if err != nil {
		return "", err
	}
	err = retry.RetryOnConflict(retry.DefaultRetry, func() error {
		var ext jetwayv1.Extension
		if err := c.Get(ctx, key, &ext); err != nil {
			return fmt.Errorf("get extension %s: %w", key, err)
		}
		if err := rotationInProgress(&ext); err != nil {
			return err
		}
		return patchAnnotation(ctx, c, &ext, jetwayv1.AnnotationRotateCredentials, token)
	})
	if err != nil {
		return "", err
	}
	fmt.Fprintf(out, `Asked for credential rotation %s of extension %s.
Next: the machines restart onto the new password, accepting the old one too;
then Fly is sent resource.updated with the new config. The old password stays
valid until you confirm with `+"`jetway rotate --revoke %s -n %s`"+`
(or, if the plan's rotation says AfterOverlap, until its overlap window ends).
Follow it with:
  %s
`, token, key, key.Name, key.Namespace, followCommand(key))
	return token, nil
}

// rotationInProgress says why a new rotation may not start yet: the one
// asked for is not carried out, or the credentials it replaced still work
// (a second rotation would leave customers two passwords behind).
func rotationInProgress(ext *jetwayv1.Extension) error {
	asked := ext.Annotations[jetwayv1.AnnotationRotateCredentials]
	creds := ext.Status.Credentials
	done := ""
	if creds != nil && creds.Rotation != nil {
		done = *creds.Rotation
	}
	key := client.ObjectKeyFromObject(ext)
	if asked != "" && asked != done {
		return fmt.Errorf("rotation %s of extension %s is not carried out yet (status.credentials.rotation is %q); nothing written", asked, key, done)
	}
	if done != "" && creds.PreviousRevokedAt == nil {
		if ext.Annotations[jetwayv1.AnnotationRevokePreviousCredentials] == done {
			return fmt.Errorf("rotation %s of extension %s: revoking the credentials it replaced is confirmed but not done yet; nothing written", done, key)
		}
		return fmt.Errorf("rotation %s of extension %s: the credentials it replaced are still valid; confirm with `jetway rotate --revoke %s -n %s` first; nothing written", done, key, key.Name, key.Namespace)
	}
	return nil
}

// confirmRevocation sets the revoke annotation to the current rotation's
// token. done reports that there is nothing left to do: the previous
// credentials are revoked already.
func confirmRevocation(ctx context.Context, c client.Client, key types.NamespacedName, out io.Writer) (token string, done bool, err error) {
	var reason string
	err = retry.RetryOnConflict(retry.DefaultRetry, func() error {
		var ext jetwayv1.Extension
		if err := c.Get(ctx, key, &ext); err != nil {
			return fmt.Errorf("get extension %s: %w", key, err)
		}
		token = ext.Annotations[jetwayv1.AnnotationRotateCredentials]
		if creds := ext.Status.Credentials; creds != nil && creds.Rotation != nil && creds.PreviousRevokedAt == nil {
			// The rotation whose replaced credentials are still valid: a
			// newer token asked for meanwhile waits on exactly this one.
			token = *creds.Rotation
		}
		if token == "" {
			return fmt.Errorf("no rotation to confirm: extension %s has no %s annotation", key, jetwayv1.AnnotationRotateCredentials)
		}
		// Already revoked is success, not an error: what the operator asks
		// for holds, and a script that confirms twice (or a retry after a
		// timeout) should not fail.
		if creds := ext.Status.Credentials; creds != nil && creds.Rotation != nil && *creds.Rotation == token && creds.PreviousRevokedAt != nil {
			done = true
			fmt.Fprintf(out, "The credentials rotation %s of extension %s replaced were already revoked at %s; nothing written.\n",
				token, key, creds.PreviousRevokedAt.UTC().Format(time.RFC3339))
			return nil
		}
		if cond := meta.FindStatusCondition(ext.Status.Conditions, jetwayv1.ConditionCredentialsRotated); cond != nil {
			reason = cond.Reason
		}
		if ext.Annotations[jetwayv1.AnnotationRevokePreviousCredentials] == token {
			fmt.Fprintf(out, "Revoking the credentials rotation %s of extension %s replaced was already confirmed.\n", token, key)
			return nil
		}
		if err := patchAnnotation(ctx, c, &ext, jetwayv1.AnnotationRevokePreviousCredentials, token); err != nil {
			return err
		}
		fmt.Fprintf(out, "Confirmed revoking the credentials rotation %s of extension %s replaced.\n", token, key)
		return nil
	})
	if err != nil || done {
		return token, done, err
	}
	if reason == jetwayv1.ReasonRollingCredentials || reason == jetwayv1.ReasonAnnouncingCredentials {
		fmt.Fprintln(out, "The rotation is at "+reason+": the revocation happens once Fly has answered the new config.")
	}
	fmt.Fprintf(out, "Follow it with:\n  %s\n", followCommand(key))
	return token, false, nil
}

// patchAnnotation sets one annotation with a JSON merge patch that carries
// the resourceVersion read, so a write in between is a conflict (retried by
// the caller after re-reading) rather than lost.
func patchAnnotation(ctx context.Context, c client.Client, ext *jetwayv1.Extension, name, value string) error {
	base := ext.DeepCopy()
	if ext.Annotations == nil {
		ext.Annotations = map[string]string{}
	}
	ext.Annotations[name] = value
	patch := client.MergeFromWithOptions(base, client.MergeFromWithOptimisticLock{})
	if err := c.Patch(ctx, ext, patch); err != nil {
		return fmt.Errorf("annotate extension %s: %w", client.ObjectKeyFromObject(ext), err)
	}
	return nil
}

func followCommand(key types.NamespacedName) string {
	return fmt.Sprintf(`kubectl get extension %s -n %s -o jsonpath='{.status.conditions[?(@.type=="CredentialsRotated")]}'`, key.Name, key.Namespace)
}
