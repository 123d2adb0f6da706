package main

import (
	"context"
	"flag"
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
	"github.com/jetway-dev/jetway/internal/manager"
)

// restConfigFor loads the Kubernetes config; tests replace it with
// envtest's.
var restConfigFor = func(kubeconfig string) (*rest.Config, error) {
	if kubeconfig != "" {
		// controller-runtime reads its own --kubeconfig from the standard
		// flag set, ahead of $KUBECONFIG and the in-cluster config.
		if err := flag.CommandLine.Set("kubeconfig", kubeconfig); err != nil {
			return nil, err
		}
	}
	return ctrl.GetConfig()
}

func newRotateClient(kubeconfig string) (client.Client, error) {
	cfg, err := restConfigFor(kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("load Kubernetes config: %w", err)
	}
	return client.New(cfg, client.Options{Scheme: manager.NewScheme()})
}

// findExtension resolves NAME -n NS, or --id, to the Extension's key.
func findExtension(ctx context.Context, c client.Client, o rotateOptions) (types.NamespacedName, error) {
	if o.flyID == "" {
		return types.NamespacedName{Namespace: o.namespace, Name: o.name}, nil
	}
	// A full list filtered here, not the gateway's fly-id-hash label: an
	// Extension applied by hand may not carry the label, and an operator's
	// one-off list is cheap next to what the manager's cache holds.
	var list jetwayv1.ExtensionList
	var opts []client.ListOption
	if o.namespace != "" {
		opts = append(opts, client.InNamespace(o.namespace))
	}
	if err := c.List(ctx, &list, opts...); err != nil {
		return types.NamespacedName{}, fmt.Errorf("list extensions: %w", err)
	}
	var found []string
	var key types.NamespacedName
	for i := range list.Items {
		if e := &list.Items[i]; e.Spec.ID == o.flyID {
			key = client.ObjectKeyFromObject(e)
			found = append(found, key.String())
		}
	}
	switch len(found) {
	case 0:
		return key, fmt.Errorf("no Extension has spec.id %q", o.flyID)
	case 1:
		return key, nil
	default:
		return key, fmt.Errorf("%d Extensions have spec.id %q (%s): name one with NAME -n NAMESPACE", len(found), o.flyID, strings.Join(found, ", "))
	}
}
