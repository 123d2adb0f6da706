package main

import (
	"archive/tar"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
)

type summary struct {
	digest                   v1.Hash
	compressed, uncompressed int64
}

// writeArchive writes img as an OCI image layout and tars it: what
// `skopeo copy oci-archive:…`, `podman load` and `docker load` read. The
// index names the image twice: org.opencontainers.image.ref.name is the tag
// (the OCI convention skopeo follows), io.containerd.image.name the whole
// reference (what docker and containerd name a loaded image by).
func writeArchive(img v1.Image, o options) (summary, error) {
	dir, err := os.MkdirTemp("", "imagebuild-")
	if err != nil {
		return summary{}, err
	}
	defer func() { _ = os.RemoveAll(dir) }()
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		return summary{}, fmt.Errorf("image layout: %w", err)
	}
	_, tag, _ := splitRef(o.ref)
	if err := p.AppendImage(img, layout.WithAnnotations(map[string]string{
		"org.opencontainers.image.ref.name": tag,
		"io.containerd.image.name":          o.ref,
	})); err != nil {
		return summary{}, fmt.Errorf("write image: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(o.out), 0o755); err != nil {
		return summary{}, err
	}
	if err := tarDir(dir, o.out, o); err != nil {
		return summary{}, err
	}
	return summarize(img)
}

// tarDir tars the layout in name order with fixed times and owners, so the
// archive's bytes depend only on its contents. It is written beside out and
// renamed, so a failed build never leaves half an archive under its name.
func tarDir(dir, out string, o options) error {
	var names []string
	err := filepath.WalkDir(dir, func(path string, _ fs.DirEntry, err error) error {
		if err != nil || path == dir {
			return err
		}
		names = append(names, path)
		return nil
	})
	if err != nil {
		return err
	}
	sort.Strings(names)
	f, err := os.CreateTemp(filepath.Dir(out), filepath.Base(out)+".*")
	if err != nil {
		return err
	}
	defer func() { _ = os.Remove(f.Name()) }()
	tw := tar.NewWriter(f)
	for _, path := range names {
		if err := addFile(tw, dir, path, o); err != nil {
			_ = f.Close()
			return err
		}
	}
	if err := tw.Close(); err != nil {
		_ = f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	// CreateTemp makes it 0600; an archive is for anyone to read.
	if err := os.Chmod(f.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(f.Name(), out)
}

func addFile(tw *tar.Writer, dir, path string, o options) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	rel, err := filepath.Rel(dir, path)
	if err != nil {
		return err
	}
	h := &tar.Header{Name: filepath.ToSlash(rel), ModTime: o.created, Mode: 0o644, Typeflag: tar.TypeReg, Size: fi.Size()}
	if fi.IsDir() {
		h.Name, h.Mode, h.Typeflag, h.Size = h.Name+"/", 0o755, tar.TypeDir, 0
	}
	if err := tw.WriteHeader(h); err != nil {
		return fmt.Errorf("archive %s: %w", rel, err)
	}
	if fi.IsDir() {
		return nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	_, err = tw.Write(data)
	return err
}

func summarize(img v1.Image) (summary, error) {
	var s summary
	var err error
	if s.digest, err = img.Digest(); err != nil {
		return s, err
	}
	layers, err := img.Layers()
	if err != nil {
		return s, err
	}
	for _, l := range layers {
		n, err := l.Size()
		if err != nil {
			return s, err
		}
		s.compressed += n
		rc, err := l.Uncompressed()
		if err != nil {
			return s, err
		}
		u, err := countBytes(rc)
		if err != nil {
			return s, err
		}
		s.uncompressed += u
	}
	return s, nil
}
