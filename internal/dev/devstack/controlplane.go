// Package devstack runs Jetway's local embedded default: a kube-apiserver
// and etcd started the way controller-runtime's envtest starts them (etcd
// data kept in the dev directory across restarts), the CRDs and default
// plan installed, and the files a newcomer needs written out.
package devstack

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/yaml"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
	"github.com/jetway-dev/jetway/config"
)

// ControlPlane is a running local kube-apiserver and etcd.
type ControlPlane struct {
	env        *envtest.Environment
	Config     *rest.Config
	Kubeconfig []byte
}

// StartControlPlane starts etcd (data under dir/etcd) and kube-apiserver
// from the binaries in assets, installs the CRDs, and makes an admin
// kubeconfig.
func StartControlPlane(assets, dir string) (*ControlPlane, error) {
	for _, bin := range []string{"etcd", "kube-apiserver"} {
		if _, err := os.Stat(filepath.Join(assets, bin)); err != nil {
			return nil, fmt.Errorf("%s not found in %s: run `make envtest` (or `make run`, which builds it)", bin, assets)
		}
	}
	crds, err := embeddedCRDs()
	if err != nil {
		return nil, err
	}
	dataDir := filepath.Join(dir, "etcd")
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create etcd data dir: %w", err)
	}
	env := &envtest.Environment{
		BinaryAssetsDirectory:    assets,
		CRDInstallOptions:        envtest.CRDInstallOptions{CRDs: crds},
		ControlPlaneStartTimeout: 90 * time.Second,
		ControlPlaneStopTimeout:  30 * time.Second,
	}
	env.ControlPlane.Etcd = &envtest.Etcd{DataDir: dataDir}
	cfg, err := env.Start()
	if err != nil {
		// Start can fail after etcd and kube-apiserver are up (say, a CRD
		// that does not install); stop them rather than leak them.
		_ = env.Stop()
		return nil, fmt.Errorf("start local control plane: %w", err)
	}
	user, err := env.AddUser(envtest.User{Name: "jetway-dev", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		_ = env.Stop()
		return nil, fmt.Errorf("create admin user: %w", err)
	}
	kubeconfig, err := user.KubeConfig()
	if err != nil {
		_ = env.Stop()
		return nil, fmt.Errorf("render kubeconfig: %w", err)
	}
	return &ControlPlane{env: env, Config: cfg, Kubeconfig: kubeconfig}, nil
}

// Stop stops kube-apiserver and etcd; etcd's data stays.
func (c *ControlPlane) Stop() error { return c.env.Stop() }

// embeddedCRDs decodes the CRDs compiled into the binary.
func embeddedCRDs() ([]*apiextensionsv1.CustomResourceDefinition, error) {
	var out []*apiextensionsv1.CustomResourceDefinition
	for _, pattern := range []string{"crd/bases/*.yaml", "crd/external/*.yaml"} {
		files, err := fs.Glob(config.Files, pattern)
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			b, err := config.Files.ReadFile(f)
			if err != nil {
				return nil, err
			}
			crd := &apiextensionsv1.CustomResourceDefinition{}
			if err := yaml.UnmarshalStrict(b, crd); err != nil {
				return nil, fmt.Errorf("decode %s: %w", f, err)
			}
			out = append(out, crd)
		}
	}
	return out, nil
}

// InstallDefaultPlan creates the sample default plan unless a plan with its
// name exists; an operator's edits to it are never overwritten.
func InstallDefaultPlan(ctx context.Context, c client.Client) error {
	return installPlan(ctx, c, "samples/jetway_v1alpha1_extensionplan.yaml")
}

// InstallSamplePlans creates every sample plan (config/samples), the
// default and the Postgres-shaped one with storage among them, each unless
// a plan with its name exists.
func InstallSamplePlans(ctx context.Context, c client.Client) error {
	files, err := fs.Glob(config.Files, "samples/*extensionplan*.yaml")
	if err != nil {
		return err
	}
	for _, f := range files {
		if err := installPlan(ctx, c, f); err != nil {
			return err
		}
	}
	return nil
}

func installPlan(ctx context.Context, c client.Client, file string) error {
	b, err := config.Files.ReadFile(file)
	if err != nil {
		return err
	}
	plan := &jetwayv1.ExtensionPlan{}
	if err := yaml.UnmarshalStrict(b, plan); err != nil {
		return fmt.Errorf("decode plan %s: %w", file, err)
	}
	if err := c.Create(ctx, plan); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("install plan %s: %w", plan.Name, err)
	}
	return nil
}
