package domain

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
)

// ReadSecretOptions reads the options an extension keeps in its Secret
// (OptionsSecretName): each key an option, each value its JSON. No Secret
// is no secret options.
func ReadSecretOptions(ctx context.Context, r client.Reader, ext *jetwayv1.Extension) (Options, error) {
	s := &corev1.Secret{}
	err := r.Get(ctx, client.ObjectKey{Namespace: ext.Namespace, Name: OptionsSecretName(ext.Name)}, s)
	if apierrors.IsNotFound(err) {
		return Options{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read secret options: %w", err)
	}
	o := Options{}
	for k, v := range s.Data {
		o[k] = json.RawMessage(v)
	}
	return o, nil
}

// WriteSecretOptions makes the extension's options Secret hold exactly
// secret, owned by the extension so it goes with it, and reports whether
// that changed anything. Nothing is written when there is nothing to keep
// and no Secret yet.
func WriteSecretOptions(ctx context.Context, c client.Client, live client.Reader, scheme ownerScheme, ext *jetwayv1.Extension, secret Options) (changed bool, err error) {
	data := map[string][]byte{}
	for k, v := range secret {
		data[k] = []byte(v)
	}
	key := client.ObjectKey{Namespace: ext.Namespace, Name: OptionsSecretName(ext.Name)}
	current := &corev1.Secret{}
	err = live.Get(ctx, key, current)
	switch {
	case apierrors.IsNotFound(err):
		if len(data) == 0 {
			return false, nil
		}
		s := &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: key.Name, Namespace: key.Namespace, Labels: map[string]string{
				jetwayv1.LabelExtension: ext.Name, jetwayv1.LabelManagedBy: jetwayv1.ManagedByJetway}},
			Type: corev1.SecretTypeOpaque,
			Data: data,
		}
		if err := controllerutil.SetControllerReference(ext, s, scheme); err != nil {
			return false, fmt.Errorf("own options secret: %w", err)
		}
		if err := c.Create(ctx, s); err != nil {
			return false, fmt.Errorf("create options secret: %w", err)
		}
		return true, nil
	case err != nil:
		return false, fmt.Errorf("read options secret: %w", err)
	}
	if maps.EqualFunc(current.Data, data, func(a, b []byte) bool { return string(a) == string(b) }) {
		return false, nil
	}
	current.Data = data
	if err := c.Update(ctx, current); err != nil {
		return false, fmt.Errorf("update options secret: %w", err)
	}
	return true, nil
}

// NewRevision is a fresh random token for AnnotationSecretOptionsRevision.
func NewRevision() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
