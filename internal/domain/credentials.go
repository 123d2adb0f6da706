package domain

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
)

// Keys of the credentials Secret.
const (
	SecretKeyUsername = "username"
	SecretKeyPassword = "password"
	// SecretKeyPreviousPassword is the password a rotation replaced, kept
	// until it is revoked (credentials_rotation.go).
	SecretKeyPreviousPassword = "previousPassword"
)

// Credentials are an extension's generated login. They are made once and
// change only when an operator rotates them (credentials_rotation.go): Fly
// has set them as secrets on the customer's app, and flyctl does not
// overwrite secrets that exist.
type Credentials struct {
	Username string
	Password string
	// Previous is the password the last rotation replaced, while it is
	// still valid; "" otherwise.
	Previous string
	// Rotation and Revision are the Secret's rotation annotations: the
	// last rotation carried out and the revision of what it holds; both ""
	// for credentials never rotated.
	Rotation, Revision string
	// RotatedAt is when Rotation issued the password, and
	// PreviousRevokedAt when the password it replaced was revoked; zero if
	// never.
	RotatedAt, PreviousRevokedAt time.Time
}

// NewPassword returns 32 random bytes as unpadded URL-safe base64, so it
// can go into a URL's userinfo without escaping.
func NewPassword() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generate password: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// EnsureCredentials returns the extension's credentials, creating the Secret
// (owned by the Extension, so it goes when the Extension goes) the first
// time. Two callers racing both end up with the winner's Secret: the loser
// gets AlreadyExists and reads it back with the uncached reader.
func EnsureCredentials(ctx context.Context, c client.Client, live client.Reader, scheme ownerScheme, ext *jetwayv1.Extension, username string) (Credentials, error) {
	key := client.ObjectKey{Namespace: ext.Namespace, Name: CredentialsSecretName(ext.Name)}
	if creds, err := ReadCredentials(ctx, live, key); err == nil {
		return creds, nil
	} else if !apierrors.IsNotFound(err) {
		return Credentials{}, err
	}
	return CreateCredentials(ctx, c, live, scheme, ext, username)
}

// CreateCredentials makes the extension's credentials Secret, or reads the
// one already there (a concurrent caller's): EnsureCredentials without the
// first read, for an Extension just created, whose Secret almost never
// exists yet.
func CreateCredentials(ctx context.Context, c client.Client, live client.Reader, scheme ownerScheme, ext *jetwayv1.Extension, username string) (Credentials, error) {
	key := client.ObjectKey{Namespace: ext.Namespace, Name: CredentialsSecretName(ext.Name)}
	password, err := NewPassword()
	if err != nil {
		return Credentials{}, err
	}
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{
			Name: key.Name, Namespace: key.Namespace,
			Labels: map[string]string{
				jetwayv1.LabelExtension: ext.Name,
				jetwayv1.LabelManagedBy: jetwayv1.ManagedByJetway,
			},
		},
		Type: corev1.SecretTypeOpaque,
		Data: map[string][]byte{SecretKeyUsername: []byte(username), SecretKeyPassword: []byte(password)},
	}
	if err := controllerutil.SetControllerReference(ext, secret, scheme); err != nil {
		return Credentials{}, fmt.Errorf("own credentials secret: %w", err)
	}
	if err := c.Create(ctx, secret); err != nil {
		if !apierrors.IsAlreadyExists(err) {
			return Credentials{}, fmt.Errorf("create credentials secret: %w", err)
		}
		return ReadCredentials(ctx, live, key)
	}
	return Credentials{Username: username, Password: password}, nil
}

// ReadCredentials reads an extension's credentials Secret; NotFound passes
// through unwrapped so callers can test for it.
func ReadCredentials(ctx context.Context, r client.Reader, key client.ObjectKey) (Credentials, error) {
	secret := &corev1.Secret{}
	if err := r.Get(ctx, key, secret); err != nil {
		if apierrors.IsNotFound(err) {
			return Credentials{}, err
		}
		return Credentials{}, fmt.Errorf("get credentials secret: %w", err)
	}
	return credentialsIn(secret)
}

// credentialsIn reads the credentials a Secret holds.
func credentialsIn(secret *corev1.Secret) (Credentials, error) {
	u, p := secret.Data[SecretKeyUsername], secret.Data[SecretKeyPassword]
	if len(u) == 0 || len(p) == 0 {
		return Credentials{}, fmt.Errorf("credentials secret %s/%s is missing %q or %q", secret.Namespace, secret.Name, SecretKeyUsername, SecretKeyPassword)
	}
	c := Credentials{
		Username: string(u), Password: string(p), Previous: string(secret.Data[SecretKeyPreviousPassword]),
		Rotation: secret.Annotations[annotationRotation], Revision: secret.Annotations[annotationRevision],
	}
	if at, err := time.Parse(time.RFC3339, secret.Annotations[annotationRotatedAt]); err == nil {
		c.RotatedAt = at
	}
	if at, err := time.Parse(time.RFC3339, secret.Annotations[annotationRevokedAt]); err == nil {
		c.PreviousRevokedAt = at
	}
	return c, nil
}
