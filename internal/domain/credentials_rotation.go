package domain

import (
	"context"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// A rotation changes the credentials Secret in one write: the new password,
// the old one as the previous, and annotations naming the rotation and a new
// revision. Everything after (the Fly app's secrets, the machines, telling
// Fly) is derived from the Secret and status, so a pass that dies after the
// write finds the rotation done and carries on; one that dies before it
// does it again. The rotation's name in the Secret is what makes the write
// happen once: comparing with status instead would issue a second password
// after a lost status write, and drop the one Fly's customer still holds.
//
// The times are kept there too, not only in status: a pass may start from
// a cached Extension older than the last pass's status write, and would
// write back what it found there.
const (
	annotationRotation  = "jetway.dev/credentials-rotation"
	annotationRevision  = "jetway.dev/credentials-revision"
	annotationRotatedAt = "jetway.dev/credentials-rotated-at"
	annotationRevokedAt = "jetway.dev/credentials-previous-revoked-at"
)

// ErrPreviousStillValid refuses a rotation while the password the last one
// replaced has not been revoked: a second rotation would drop it, and a
// customer still using it would be cut off without anyone having checked.
var ErrPreviousStillValid = errors.New("the credentials replaced by the last rotation are still valid")

// RotateCredentials carries out rotation on the extension's credentials
// Secret, read live: a new password, the current one kept as the previous.
// A Secret that already carries rotation is returned as it is.
func RotateCredentials(ctx context.Context, c client.Client, live client.Reader, key client.ObjectKey, rotation string, now time.Time) (Credentials, error) {
	return changeCredentials(ctx, c, live, key, func(s *corev1.Secret, cur Credentials) (bool, error) {
		if cur.Rotation == rotation {
			return false, nil
		}
		if cur.Previous != "" {
			return false, ErrPreviousStillValid
		}
		password, err := NewPassword()
		if err != nil {
			return false, err
		}
		s.Data[SecretKeyPreviousPassword] = []byte(cur.Password)
		s.Data[SecretKeyPassword] = []byte(password)
		s.Annotations[annotationRotation] = rotation
		s.Annotations[annotationRotatedAt] = now.UTC().Format(time.RFC3339)
		delete(s.Annotations, annotationRevokedAt)
		return true, nil
	})
}

// RevokePreviousCredentials removes the password the last rotation
// replaced. Without one it changes nothing.
func RevokePreviousCredentials(ctx context.Context, c client.Client, live client.Reader, key client.ObjectKey, now time.Time) (Credentials, error) {
	return changeCredentials(ctx, c, live, key, func(s *corev1.Secret, cur Credentials) (bool, error) {
		if cur.Previous == "" {
			return false, nil
		}
		delete(s.Data, SecretKeyPreviousPassword)
		s.Annotations[annotationRevokedAt] = now.UTC().Format(time.RFC3339)
		return true, nil
	})
}

// changeCredentials applies change to the live Secret and, when it changed
// anything, writes it under its resourceVersion with a new revision. A
// conflict is returned: the pass is retried and reads afresh.
func changeCredentials(ctx context.Context, c client.Client, live client.Reader, key client.ObjectKey,
	change func(*corev1.Secret, Credentials) (bool, error)) (Credentials, error) {
	s := &corev1.Secret{}
	if err := live.Get(ctx, key, s); err != nil {
		return Credentials{}, fmt.Errorf("get credentials secret: %w", err)
	}
	cur, err := credentialsIn(s)
	if err != nil {
		return Credentials{}, err
	}
	if s.Annotations == nil {
		s.Annotations = map[string]string{}
	}
	changed, err := change(s, cur)
	if err != nil || !changed {
		return cur, err
	}
	s.Annotations[annotationRevision] = NewRevision()
	if err := c.Update(ctx, s); err != nil {
		return Credentials{}, fmt.Errorf("update credentials secret: %w", err)
	}
	return credentialsIn(s)
}
