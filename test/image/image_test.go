// Package image checks the OCI archive `make image` writes (make test builds
// it first): that it is the image the Dockerfile describes, runs as a
// non-root user, holds a static binary that runs, is reproducible, and how
// big it is.
package image

import (
	"bytes"
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// maxCompressedBytes is the size budget of what a node pulls. The image is
// one static binary (about 19 MB compressed when this was set); crossing the
// budget means something large was linked in, e.g. a piece of the harness.
const maxCompressedBytes = 30_000_000

func env(t *testing.T, name string) string {
	t.Helper()
	v, ok := os.LookupEnv(name)
	if !ok {
		t.Fatalf("%s is not set: run `make test`, which builds the image archive (`make image`) and sets it", name)
	}
	return v
}

func loadImage(t *testing.T) *ociImage {
	t.Helper()
	return readArchive(t, env(t, "JETWAY_IMAGE_ARCHIVE"))
}

// TestImageIsTheDockerfiles: the offline build and `docker build .` make
// the same image config, from an empty base.
func TestImageIsTheDockerfiles(t *testing.T) {
	img := loadImage(t)
	d := parseDockerfile(t, "../../Dockerfile", map[string]string{
		"VERSION":  env(t, "JETWAY_IMAGE_VERSION"),
		"REVISION": env(t, "JETWAY_IMAGE_REVISION"),
	})
	if d.finalFrom != "scratch" {
		t.Errorf("the Dockerfile's final stage is FROM %s; the offline build has no base image, so it must be FROM scratch", d.finalFrom)
	}
	c := img.config.Config
	for _, f := range []struct {
		what       string
		image, doc any
	}{
		{"USER", c.User, d.user},
		{"WORKDIR", c.WorkingDir, d.workdir},
		{"ENTRYPOINT", c.Entrypoint, d.entrypoint},
		{"CMD", c.Cmd, d.cmd},
		{"ENV", c.Env, d.env},
		{"LABEL", c.Labels, d.labels},
	} {
		if diff := cmp.Diff(f.doc, f.image); diff != "" {
			t.Errorf("the archive's %s differs from the Dockerfile's (-Dockerfile +archive):\n%s", f.what, diff)
		}
	}
	if img.config.OS != "linux" {
		t.Errorf("os = %q, want linux", img.config.OS)
	}
	ref := img.index.Manifests[0].Annotations
	if want := env(t, "JETWAY_IMG"); ref["io.containerd.image.name"] != want || !strings.HasSuffix(want, ":"+ref["org.opencontainers.image.ref.name"]) {
		t.Errorf("the archive names itself %q (tag %q), want IMG %s", ref["io.containerd.image.name"], ref["org.opencontainers.image.ref.name"], want)
	}
}

// TestDockerfileVersionIsTheCharts: a plain `docker build .` labels the
// version the chart deploys.
func TestDockerfileVersionIsTheCharts(t *testing.T) {
	chart, err := os.ReadFile("../../charts/jetway/Chart.yaml")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^appVersion:\s*"?([^"\s]+)"?`).FindSubmatch(chart)
	if m == nil {
		t.Fatal("charts/jetway/Chart.yaml has no appVersion")
	}
	d := parseDockerfile(t, "../../Dockerfile", nil)
	if got := d.argDefaults["VERSION"]; got != string(m[1]) {
		t.Errorf("the Dockerfile's ARG VERSION defaults to %q, the chart's appVersion is %q", got, m[1])
	}
}

// TestImageRunsAsNonRoot: a numeric, non-zero user (runAsNonRoot can only
// check a number; there is no /etc/passwd to name one), which owns its
// state directory and cannot rewrite the binary.
func TestImageRunsAsNonRoot(t *testing.T) {
	img := loadImage(t)
	uidStr, gidStr, _ := strings.Cut(img.config.Config.User, ":")
	uid, err := strconv.Atoi(uidStr)
	if err != nil || uid == 0 {
		t.Fatalf("USER = %q, want a numeric non-root uid", img.config.Config.User)
	}
	if gid, err := strconv.Atoi(gidStr); err != nil || gid == 0 {
		t.Errorf("USER = %q, want a numeric non-root gid", img.config.Config.User)
	}
	fsys := img.rootfs(t)
	for _, absent := range []string{"/etc/passwd", "/bin/sh", "/usr/bin/env"} {
		if _, ok := fsys[absent]; ok {
			t.Errorf("the image has %s; it should hold only the binary and its state directory", absent)
		}
	}
	bin, ok := fsys[img.config.Config.Entrypoint[0]]
	if !ok {
		t.Fatalf("the entrypoint %s is not in the image", img.config.Config.Entrypoint[0])
	}
	if bin.header.Uid != 0 || bin.header.Mode&0o022 != 0 {
		t.Errorf("%s is owned by uid %d with mode %o; the user must not be able to rewrite it", bin.header.Name, bin.header.Uid, bin.header.Mode)
	}
	state, ok := fsys[img.config.Config.WorkingDir]
	if !ok || state.header.Uid != uid {
		t.Errorf("the state directory %s is missing or not the user's (%+v)", img.config.Config.WorkingDir, state.header)
	}
}

// TestImageBinaryIsStaticAndRuns: the binary inside needs no libc (the
// image has none) and runs: `jetway version` prints the image's version and
// `jetway manager --help` knows the settings the chart passes.
func TestImageBinaryIsStaticAndRuns(t *testing.T) {
	img := loadImage(t)
	bin := filepath.Join(t.TempDir(), "jetway")
	if err := os.WriteFile(bin, img.rootfs(t)[img.config.Config.Entrypoint[0]].data, 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatalf("the entrypoint is not an ELF binary: %v", err)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("the binary asks for a dynamic loader; it must be built with CGO_ENABLED=0")
		}
	}
	if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
		t.Errorf("the binary links shared libraries %v", libs)
	}
	_ = f.Close()

	out, err := exec.Command(bin, "version").CombinedOutput()
	if want := "jetway " + env(t, "JETWAY_IMAGE_VERSION") + "\n"; err != nil || string(out) != want {
		t.Errorf("jetway version: %q, %v; want %q", out, err, want)
	}
	out, err = exec.Command(bin, append(img.config.Config.Cmd, "--help")...).CombinedOutput()
	if err != nil || !bytes.Contains(out, []byte("--state-dir")) {
		t.Errorf("jetway %s --help: %v\n%s", strings.Join(img.config.Config.Cmd, " "), err, out)
	}
}

// TestImageIsReproducible: every time in the archive is the build's one
// fixed time, and building again from the same binary gives the same bytes.
func TestImageIsReproducible(t *testing.T) {
	path := env(t, "JETWAY_IMAGE_ARCHIVE")
	img := readArchive(t, path)
	created := img.config.Created
	for name, ts := range img.fileTimes {
		if got := unixRFC3339(ts); got != created {
			t.Errorf("archive entry %s has time %s, the image was created %s", name, got, created)
		}
	}
	for name, f := range img.rootfs(t) {
		if got := unixRFC3339(f.header.ModTime.Unix()); got != created {
			t.Errorf("%s in the layer has time %s, the image was created %s", name, got, created)
		}
	}

	dir := t.TempDir()
	bin := filepath.Join(dir, "jetway")
	if err := os.WriteFile(bin, img.rootfs(t)[img.config.Config.Entrypoint[0]].data, 0o755); err != nil {
		t.Fatal(err)
	}
	again := filepath.Join(dir, "again.oci.tar")
	labels := img.config.Config.Labels
	cmd := exec.Command(env(t, "JETWAY_IMAGEBUILD_BIN"), "--binary", bin, "--ref", env(t, "JETWAY_IMG"),
		"--version", labels["org.opencontainers.image.version"], "--revision", labels["org.opencontainers.image.revision"],
		"--arch", img.config.Architecture, "--created", strconv.FormatInt(parseRFC3339(t, created), 10), "--out", again)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("imagebuild again: %v\n%s", err, out)
	}
	first, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	second, err := os.ReadFile(again)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(first, second) {
		t.Error("building the image again from the same binary gave a different archive")
	}
}

// TestImageSize reports what a node pulls and unpacks, and holds it to
// its budget.
func TestImageSize(t *testing.T) {
	img := loadImage(t)
	var unpacked int64
	for _, f := range img.rootfs(t) {
		unpacked += int64(len(f.data))
	}
	t.Logf("image %s: %d layer(s), %s compressed, %s unpacked", env(t, "JETWAY_IMG"), len(img.manifest.Layers), mb(img.compressedSize()), mb(unpacked))
	if img.compressedSize() > maxCompressedBytes {
		t.Errorf("the image is %s compressed, over its %s budget", mb(img.compressedSize()), mb(maxCompressedBytes))
	}
}
