package main

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"os"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// The Dockerfile's final stage, which test/image compares this with. The
// user is numeric and there is no /etc/passwd: a name would need one, and
// Kubernetes' runAsNonRoot can only check a number.
const (
	uid        = 65532
	binaryPath = "jetway"          // /jetway, the ENTRYPOINT
	stateDir   = "var/lib/jetway/" // the default --state-dir, also the WORKDIR
)

var (
	entrypoint = []string{"/jetway"}
	cmd        = []string{"manager"}
)

func labels(o options) map[string]string {
	return map[string]string{
		"org.opencontainers.image.title":       "jetway",
		"org.opencontainers.image.description": "Jetway manager: the Fly-facing provisioning gateway, the controllers and the dashboard",
		"org.opencontainers.image.source":      "https://github.com/jetway-dev/jetway",
		"org.opencontainers.image.version":     o.version,
		"org.opencontainers.image.revision":    o.revision,
	}
}

// buildImage is the empty image plus one layer, with OCI media types
// throughout (empty.Image starts with Docker's).
func buildImage(o options) (v1.Image, error) {
	layerTar, err := layerTar(o)
	if err != nil {
		return nil, err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(layerTar)), nil
	}, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, fmt.Errorf("layer: %w", err)
	}
	base := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	img, err := mutate.Append(base, mutate.Addendum{
		Layer:     layer,
		MediaType: types.OCILayer,
		History: v1.History{
			Created:   v1.Time{Time: o.created},
			CreatedBy: "hack/imagebuild: /jetway and /var/lib/jetway",
			Comment:   "the offline twin of the Dockerfile's FROM scratch stage",
		},
	})
	if err != nil {
		return nil, fmt.Errorf("append layer: %w", err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", o.arch
	cf.Created = v1.Time{Time: o.created}
	cf.Config = v1.Config{
		User:       fmt.Sprintf("%d:%d", uid, uid),
		Entrypoint: entrypoint,
		Cmd:        cmd,
		WorkingDir: "/" + stateDir[:len(stateDir)-1],
		Labels:     labels(o),
	}
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		return nil, fmt.Errorf("set config: %w", err)
	}
	return img, nil
}

// layerTar holds /jetway (root's, so the process cannot rewrite itself) and
// /var/lib/jetway (the user's, so the nonce store opens without a volume),
// with every time set to o.created.
func layerTar(o options) ([]byte, error) {
	bin, err := os.ReadFile(o.binary)
	if err != nil {
		return nil, fmt.Errorf("read binary: %w", err)
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	dir := func(name string, mode int64, owner int) error {
		return tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: name, Mode: mode, Uid: owner, Gid: owner, ModTime: o.created})
	}
	for _, step := range []func() error{
		func() error { return dir("var/", 0o755, 0) },
		func() error { return dir("var/lib/", 0o755, 0) },
		func() error { return dir(stateDir, 0o700, uid) },
		func() error {
			return tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: binaryPath, Mode: 0o755, Size: int64(len(bin)), ModTime: o.created})
		},
		func() error { _, err := tw.Write(bin); return err },
		tw.Close,
	} {
		if err := step(); err != nil {
			return nil, fmt.Errorf("layer tar: %w", err)
		}
	}
	return buf.Bytes(), nil
}
