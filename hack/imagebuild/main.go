// Command imagebuild writes the Jetway image as an OCI archive without a
// container engine or a base image: `make image` runs it where nothing can
// be pulled. It stacks one layer (the static binary and its state
// directory) on an empty image, the offline twin of the Dockerfile's
// `FROM scratch` stage; test/image fails if the two drift apart.
//
// Every timestamp is --created (SOURCE_DATE_EPOCH), so one binary gives one
// archive, byte for byte.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"time"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "imagebuild:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("imagebuild", flag.ContinueOnError)
	var o options
	fs.StringVar(&o.binary, "binary", "", "the static jetway binary (hack/build-image-binary.sh)")
	fs.StringVar(&o.ref, "ref", "", "the image's name, REPOSITORY:TAG (the Makefile's IMG)")
	fs.StringVar(&o.version, "version", "", "the org.opencontainers.image.version label")
	fs.StringVar(&o.revision, "revision", "", "the org.opencontainers.image.revision label (the commit; may be empty)")
	fs.StringVar(&o.arch, "arch", runtime.GOARCH, "the binary's GOARCH")
	created := fs.Int64("created", 0, "every timestamp in the image, in Unix seconds (SOURCE_DATE_EPOCH)")
	fs.StringVar(&o.out, "out", "", "the OCI archive to write")
	if err := fs.Parse(args); err != nil {
		return err
	}
	o.created = time.Unix(*created, 0).UTC()
	if err := o.validate(); err != nil {
		return err
	}
	img, err := buildImage(o)
	if err != nil {
		return err
	}
	sum, err := writeArchive(img, o)
	if err != nil {
		return err
	}
	fmt.Printf("wrote %s: %s %s, %s compressed (%s uncompressed)\n",
		o.out, o.ref, sum.digest, mb(sum.compressed), mb(sum.uncompressed))
	return nil
}

type options struct {
	binary, ref, version, revision, arch, out string
	created                                   time.Time
}

func (o options) validate() error {
	var errs []error
	if o.binary == "" {
		errs = append(errs, errors.New("--binary is required"))
	} else if fi, err := os.Stat(o.binary); err != nil {
		errs = append(errs, fmt.Errorf("--binary: %w", err))
	} else if fi.Mode()&0o111 == 0 {
		errs = append(errs, fmt.Errorf("--binary %s is not executable", o.binary))
	}
	if _, tag, ok := splitRef(o.ref); !ok || tag == "" {
		errs = append(errs, fmt.Errorf("--ref %q must be REPOSITORY:TAG", o.ref))
	}
	if o.version == "" {
		errs = append(errs, errors.New("--version is required"))
	}
	if o.out == "" {
		errs = append(errs, errors.New("--out is required"))
	}
	if o.created.Unix() < 0 {
		errs = append(errs, fmt.Errorf("--created %d is before 1970", o.created.Unix()))
	}
	return errors.Join(errs...)
}

// splitRef splits REPOSITORY:TAG at the last colon after the last slash, so
// a registry's port (localhost:5000/jetway) is not taken for a tag.
func splitRef(ref string) (repo, tag string, ok bool) {
	i := strings.LastIndex(ref, ":")
	if i <= 0 || i < strings.LastIndex(ref, "/") {
		return ref, "", false
	}
	return ref[:i], ref[i+1:], true
}

func mb(n int64) string { return fmt.Sprintf("%.1f MB", float64(n)/1e6) }

func countBytes(r io.ReadCloser) (int64, error) {
	defer func() { _ = r.Close() }()
	return io.Copy(io.Discard, r)
}
