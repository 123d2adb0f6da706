package image

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"time"
)

// ociImage is what the archive holds, read with the standard library only
// (not with go-containerregistry, which wrote it), so a mistake in the
// writer cannot hide behind the same mistake in the reader.
type ociImage struct {
	index struct {
		Manifests []struct {
			MediaType   string            `json:"mediaType"`
			Digest      string            `json:"digest"`
			Annotations map[string]string `json:"annotations"`
		} `json:"manifests"`
	}
	manifest struct {
		MediaType string `json:"mediaType"`
		Config    struct {
			MediaType string `json:"mediaType"`
			Digest    string `json:"digest"`
		} `json:"config"`
		Layers []struct {
			MediaType string `json:"mediaType"`
			Digest    string `json:"digest"`
			Size      int64  `json:"size"`
		} `json:"layers"`
	}
	config struct {
		Created      string `json:"created"`
		OS           string `json:"os"`
		Architecture string `json:"architecture"`
		Config       struct {
			User       string            `json:"User"`
			Entrypoint []string          `json:"Entrypoint"`
			Cmd        []string          `json:"Cmd"`
			WorkingDir string            `json:"WorkingDir"`
			Env        []string          `json:"Env"`
			Labels     map[string]string `json:"Labels"`
		} `json:"config"`
	}
	// files are the archive's own entries (oci-layout, index.json, blobs/…).
	files map[string][]byte
	// fileTimes are the archive's entries' modification times.
	fileTimes map[string]int64
}

func readArchive(t *testing.T, path string) *ociImage {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("open the image archive (run `make image`): %v", err)
	}
	defer func() { _ = f.Close() }()
	img := &ociImage{files: map[string][]byte{}, fileTimes: map[string]int64{}}
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("read %s: %v", path, err)
		}
		img.fileTimes[h.Name] = h.ModTime.Unix()
		if h.Typeflag != tar.TypeReg {
			continue
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatalf("read %s in %s: %v", h.Name, path, err)
		}
		img.files[h.Name] = data
	}
	if !strings.Contains(string(img.files["oci-layout"]), `"imageLayoutVersion"`) {
		t.Fatalf("%s is not an OCI image layout: no oci-layout file", path)
	}
	img.decode(t, "index.json", &img.index)
	if len(img.index.Manifests) != 1 {
		t.Fatalf("index.json lists %d manifests, want the one image", len(img.index.Manifests))
	}
	img.decode(t, blobPath(t, img.index.Manifests[0].Digest), &img.manifest)
	img.decode(t, blobPath(t, img.manifest.Config.Digest), &img.config)
	return img
}

func (img *ociImage) decode(t *testing.T, name string, v any) {
	t.Helper()
	data, ok := img.files[name]
	if !ok {
		t.Fatalf("the archive has no %s", name)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("decode %s: %v", name, err)
	}
}

func blobPath(t *testing.T, digest string) string {
	t.Helper()
	algo, hex, ok := strings.Cut(digest, ":")
	if !ok || algo != "sha256" {
		t.Fatalf("digest %q is not sha256:…", digest)
	}
	return "blobs/sha256/" + hex
}

// layerFile is one entry of the image's file system.
type layerFile struct {
	header *tar.Header
	data   []byte
}

// rootfs unpacks every layer in order into path → entry.
func (img *ociImage) rootfs(t *testing.T) map[string]layerFile {
	t.Helper()
	fsys := map[string]layerFile{}
	for _, l := range img.manifest.Layers {
		blob := img.files[blobPath(t, l.Digest)]
		zr, err := gzip.NewReader(bytes.NewReader(blob))
		if err != nil {
			t.Fatalf("layer %s is not gzip (%s): %v", l.Digest, l.MediaType, err)
		}
		tr := tar.NewReader(zr)
		for {
			h, err := tr.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("read layer %s: %v", l.Digest, err)
			}
			data, err := io.ReadAll(tr)
			if err != nil {
				t.Fatalf("read %s in layer %s: %v", h.Name, l.Digest, err)
			}
			fsys["/"+strings.TrimSuffix(h.Name, "/")] = layerFile{header: h, data: data}
		}
	}
	return fsys
}

func (img *ociImage) compressedSize() int64 {
	var n int64
	for _, l := range img.manifest.Layers {
		n += l.Size
	}
	return n
}

func mb(n int64) string { return fmt.Sprintf("%.1f MB", float64(n)/1e6) }

func unixRFC3339(sec int64) string { return time.Unix(sec, 0).UTC().Format(time.RFC3339) }

func parseRFC3339(t *testing.T, s string) int64 {
	t.Helper()
	ts, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatalf("the image's created time %q: %v", s, err)
	}
	return ts.Unix()
}
