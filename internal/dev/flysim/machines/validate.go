package machines

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"regexp"
	"strings"

	fly "github.com/superfly/fly-go"
)

var (
	machineNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)
	// A Docker reference: lowercase repository path, optional :tag, optional
	// @sha256:digest. Registry hosts may carry a port.
	imageRE = regexp.MustCompile(`^[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(/[a-z0-9]+([._-]+[a-z0-9]+)*)*(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(@sha256:[a-f0-9]{64})?$`)
)

// validateLaunch checks a create (create=true) or update body. Fly resolves
// the image and places the machine synchronously, so these are the errors
// a caller sees from the create call itself.
func validateLaunch(in *fly.LaunchMachineInput, create bool) error {
	if in.Config == nil {
		return errors.New("config is required")
	}
	if in.Config.Image == "" {
		return errors.New("config.image is required")
	}
	if !imageRE.MatchString(in.Config.Image) {
		return fmt.Errorf("config.image %q is not a valid image reference", in.Config.Image)
	}
	if create {
		if in.Region == "" {
			return errors.New("region is required")
		}
	}
	if in.Region != "" && !validRegion(in.Region) {
		return fmt.Errorf("unknown region %q; pass a single region code such as \"iad\"", in.Region)
	}
	if in.Name != "" && !machineNameRE.MatchString(in.Name) {
		return fmt.Errorf("invalid machine name %q: use up to 63 lowercase letters, digits, '-' or '_'", in.Name)
	}
	if err := normalizeGuest(in.Config); err != nil {
		return err
	}
	if err := validateMounts(in.Config.Mounts); err != nil {
		return err
	}
	for i, svc := range in.Config.Services {
		if svc.InternalPort < 1 || svc.InternalPort > 65535 {
			return fmt.Errorf("services[%d].internal_port %d out of range", i, svc.InternalPort)
		}
		if p := svc.Protocol; p != "tcp" && p != "udp" {
			return fmt.Errorf("services[%d].protocol must be tcp or udp, got %q", i, p)
		}
		for j, c := range svc.Checks {
			where := fmt.Sprintf("services[%d].checks[%d]", i, j)
			if err := validateCheck(where, c.Type, c.Port, c.HTTPPath, c.Interval, c.Timeout, c.GracePeriod); err != nil {
				return err
			}
		}
	}
	for name, c := range in.Config.Checks {
		where := fmt.Sprintf("checks[%q]", name)
		if name == "" {
			return errors.New("checks: a check name must not be empty")
		}
		if c.Port == nil {
			return fmt.Errorf("%s.port is required: a top-level check has no service port to default to", where)
		}
		if err := validateCheck(where, c.Type, c.Port, c.HTTPPath, c.Interval, c.Timeout, c.GracePeriod); err != nil {
			return err
		}
	}
	return nil
}

// validateCheck checks one health check, service or top-level. Fly's docs
// give the type as "tcp or http"; flysim also requires it to be set
// rather than guess a default.
func validateCheck(where string, kind *string, port *int, path *string, durations ...*fly.Duration) error {
	if k := deref(kind, ""); k != "tcp" && k != "http" {
		return fmt.Errorf("%s.type must be tcp or http, got %q", where, k)
	}
	if port != nil && (*port < 1 || *port > 65535) {
		return fmt.Errorf("%s.port %d out of range", where, *port)
	}
	if path != nil && !strings.HasPrefix(*path, "/") {
		return fmt.Errorf("%s.path %q must start with /", where, *path)
	}
	for _, d := range durations {
		if d != nil && d.Duration < 0 {
			return fmt.Errorf("%s: interval, timeout and grace_period must not be negative", where)
		}
	}
	return nil
}

// normalizeGuest fills Fly's default guest (shared-cpu-1x, 256 MB) and
// enforces the memory bounds fly-go documents per CPU kind. The echoed
// config then shows what the machine really got, as Fly's does.
func normalizeGuest(cfg *fly.MachineConfig) error {
	if cfg.Guest == nil {
		// The size field is deprecated in fly-go, but Fly still accepts it.
		size := cfg.VMSize //nolint:staticcheck // SA1019: Fly still reads the deprecated size field, so the stand-in does too
		if size == "" {
			size = "shared-cpu-1x"
		}
		preset, ok := fly.MachinePresets[size]
		if !ok {
			return fmt.Errorf("unknown machine size %q", size)
		}
		g := *preset
		cfg.Guest = &g
		return nil
	}
	g := cfg.Guest
	if g.CPUKind == "" {
		g.CPUKind = "shared"
	}
	if g.CPUs == 0 {
		g.CPUs = 1
	}
	var minPer, maxPer int
	switch g.CPUKind {
	case "shared":
		minPer, maxPer = fly.MIN_MEMORY_MB_PER_SHARED_CPU, fly.MAX_MEMORY_MB_PER_SHARED_CPU
		if g.CPUs != 1 && g.CPUs != 2 && g.CPUs != 4 && g.CPUs != 6 && g.CPUs != 8 {
			return fmt.Errorf("invalid guest: %d shared cpus is not offered", g.CPUs)
		}
	case "performance":
		minPer, maxPer = fly.MIN_MEMORY_MB_PER_CPU, fly.MAX_MEMORY_MB_PER_CPU
		if g.CPUs < 1 || g.CPUs > 16 || (g.CPUs > 1 && g.CPUs%2 != 0) {
			return fmt.Errorf("invalid guest: %d performance cpus is not offered", g.CPUs)
		}
	default:
		return fmt.Errorf("invalid guest: cpu_kind must be shared or performance, got %q", g.CPUKind)
	}
	if g.MemoryMB == 0 {
		g.MemoryMB = minPer * g.CPUs
	}
	if g.MemoryMB%256 != 0 {
		return fmt.Errorf("invalid guest: memory_mb %d must be a multiple of 256", g.MemoryMB)
	}
	if g.MemoryMB < minPer*g.CPUs || g.MemoryMB > maxPer*g.CPUs {
		return fmt.Errorf("invalid guest: memory_mb %d outside %d..%d for %d %s cpus", g.MemoryMB, minPer*g.CPUs, maxPer*g.CPUs, g.CPUs, g.CPUKind)
	}
	return nil
}

// imageRef splits an image reference the way Fly reports it in image_ref.
// Images without a registry come from Fly's Docker Hub mirror. The digest
// is invented (hash of the reference) but stable, since nothing is pulled.
func imageRef(image string) fly.MachineImageRef {
	ref := fly.MachineImageRef{}
	rest := image
	if at := strings.Index(rest, "@"); at >= 0 {
		ref.Digest = rest[at+1:]
		rest = rest[:at]
	}
	if slash := strings.LastIndex(rest, "/"); strings.LastIndex(rest, ":") > slash {
		colon := strings.LastIndex(rest, ":")
		ref.Tag = rest[colon+1:]
		rest = rest[:colon]
	}
	first, remainder, hasSlash := strings.Cut(rest, "/")
	if hasSlash && (strings.ContainsAny(first, ".:") || first == "localhost") {
		ref.Registry = first
		ref.Repository = remainder
	} else {
		ref.Registry = "docker-hub-mirror.fly.io"
		ref.Repository = rest
		if !hasSlash {
			ref.Repository = "library/" + rest
		}
	}
	if ref.Tag == "" && ref.Digest == "" {
		ref.Tag = "latest"
	}
	if ref.Digest == "" {
		ref.Digest = fmt.Sprintf("sha256:%x", sha256.Sum256([]byte(image)))
	}
	return ref
}
