package machines

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"regexp"

	fly "github.com/superfly/fly-go"
)

// Volumes: Fly's persistent disks. A volume is a slice of one host's NVMe
// drive, so it lives in one region and one zone (a group of hosts), belongs
// to one app, and is mounted by at most one machine, which must be in the
// same region (docs "Fly Volumes overview": "A volume can attach to one
// Machine ... A Machine can only mount one volume at a time").

// Volume states. fly-go's GetVolumes hides the states of a volume on its way
// out (flaps destroyedVolumeStates); flysim uses one of them, then
// "destroyed", after which the list leaves the volume out.
const (
	volumeCreated        = "created"
	volumePendingDestroy = "pending_destroy"
	volumeDestroyed      = "destroyed"
)

// Volume limits.
const (
	// Fly's volumes are 1 to 500 GB (fly.io/docs/volumes/overview, as
	// summarised by hivebook.wiki's "Fly Volumes" page; flysim found no
	// Fly text quoting the bound itself, so it holds to that one).
	maxVolumeSizeGB = 500
	// Snapshot retention in days: "You can keep them for 1 day all the way
	// up to 60 days. The default continues to be 5 days." (community.fly.io,
	// "Retain your snapshots from 1 to 60 days", 2024).
	minSnapshotRetention     = 1
	maxSnapshotRetention     = 60
	defaultSnapshotRetention = 5
	// zonesPerRegion is how many zones (separate hardware) a region offers
	// a volume. Fly does not say; few is the strict side, since
	// require_unique_zone then runs out sooner.
	zonesPerRegion = 3
)

// Fly's volume names: flyctl asks for lowercase letters, digits and
// underscores, at most 30 characters. The API's own rule is not
// documented, so flysim enforces flyctl's.
var volumeNameRE = regexp.MustCompile(`^[a-z0-9_]{1,30}$`)

type volume struct {
	app *app
	v   fly.Volume // authoritative record; AttachedMachine is derived from attached
	// fstype is in Fly's spec (Volume.fstype) but not in fly-go's Volume.
	fstype string
	// attached is the machine that mounts the volume, until it is
	// destroyed. Fly binds a volume to its machine for the machine's whole
	// life, stopped or not.
	attached  *machine
	snapshots []*snapshot // oldest first, expired ones included
	// restoredFrom is the snapshot the volume was created from, "" for
	// none. Fly's volume JSON does not say; the inspection helpers do.
	restoredFrom string
	// sizes is the volume's truth for billing tests (volume_usage.go):
	// every size it had from creation on, and its destroy, by Options.Now.
	sizes []volumeChange
}

// volumeView is the Volume JSON Fly returns: fly-go's fly.Volume plus the
// spec's fstype, which fly-go v0.2.2 does not model.
type volumeView struct {
	fly.Volume
	FSType string `json:"fstype"`
}

func volumeViewOf(vol *volume) volumeView {
	v := vol.v
	if vol.attached != nil {
		id := vol.attached.m.ID
		v.AttachedMachine = &id
	}
	return volumeView{Volume: v, FSType: vol.fstype}
}

// live reports whether the volume can still be used: mounted, extended,
// snapshotted.
func (vol *volume) live() bool { return vol.v.State == volumeCreated }

// newVolume is a validated create-volume request, defaults filled.
type newVolume struct {
	name       string
	region     string
	sizeGB     int
	encrypted  bool
	fstype     string
	retention  int
	autoBackup bool
	uniqueZone bool
	appWide    bool
	snapshotID string
}

// validateCreateVolume checks what can be checked without the app's state.
// A snapshot's size is checked later (createVolume), against the snapshot.
func validateCreateVolume(in *fly.CreateVolumeRequest) (newVolume, error) {
	out := newVolume{
		name:       in.Name,
		region:     in.Region,
		encrypted:  deref(in.Encrypted, true), // Fly encrypts volumes unless told not to
		fstype:     deref(in.FSType, "ext4"),
		retention:  deref(in.SnapshotRetention, defaultSnapshotRetention),
		autoBackup: deref(in.AutoBackupEnabled, true),
		// flyctl defaults require_unique_zone to true, and Fly's docs say
		// "we default to putting each of your app's volumes on different
		// hardware"; the API's default is not documented, so the strict
		// side.
		uniqueZone: deref(in.RequireUniqueZone, true),
		appWide:    deref(in.UniqueZoneAppWide, false),
		snapshotID: deref(in.SnapshotID, ""),
	}
	switch {
	case in.Name == "":
		return out, errors.New("name is required")
	case !volumeNameRE.MatchString(in.Name):
		return out, fmt.Errorf("invalid volume name %q: use up to 30 lowercase letters, digits or '_'", in.Name)
	case in.Region == "":
		return out, errors.New("region is required")
	case !validRegion(in.Region):
		return out, fmt.Errorf("unknown region %q; pass a single region code such as \"iad\"", in.Region)
	case out.fstype != "ext4" && out.fstype != "raw":
		return out, fmt.Errorf("fstype must be ext4 or raw, got %q", out.fstype)
	}
	if err := checkRetention(out.retention); err != nil {
		return out, err
	}
	if in.SizeGb != nil {
		out.sizeGB = *in.SizeGb
		if err := checkVolumeSize(out.sizeGB); err != nil {
			return out, err
		}
	} else if out.snapshotID == "" {
		// flyctl has a default (3 GB in older docs, 1 GB in newer ones);
		// the API's is not documented, so flysim wants to be told.
		return out, errors.New("size_gb is required")
	}
	if in.ComputeRequirements != nil {
		g := *in.ComputeRequirements
		if err := normalizeGuest(&fly.MachineConfig{Guest: &g}); err != nil {
			return out, fmt.Errorf("compute: %w", err)
		}
	}
	return out, nil
}

func checkVolumeSize(gb int) error {
	if gb < 1 || gb > maxVolumeSizeGB {
		return fmt.Errorf("size_gb %d outside 1..%d", gb, maxVolumeSizeGB)
	}
	return nil
}

func checkRetention(days int) error {
	if days < minSnapshotRetention || days > maxSnapshotRetention {
		return fmt.Errorf("snapshot_retention %d outside %d..%d days", days, minSnapshotRetention, maxSnapshotRetention)
	}
	return nil
}

func deref[T any](p *T, def T) T {
	if p == nil {
		return def
	}
	return *p
}

// zonesOf is region's zones: four hex digits, like Fly's ("b6a7"), stable
// run to run.
func zonesOf(region string) []string {
	out := make([]string, zonesPerRegion)
	for i := range out {
		sum := sha256.Sum256([]byte(fmt.Sprintf("zone:%s:%d", region, i)))
		out[i] = fmt.Sprintf("%02x%02x", sum[0], sum[1])
	}
	return out
}

// zoneLocked places a new volume. With uniqueZone, it avoids the zones of
// the app's live volumes of the same name (of any name, appWide), as Fly
// does to keep replicas on separate hardware; false means none is left.
func (s *Server) zoneLocked(a *app, nv newVolume) (string, bool) {
	zones := zonesOf(nv.region)
	if !nv.uniqueZone {
		return zones[s.rng.IntN(len(zones))], true
	}
	taken := map[string]bool{}
	for _, vol := range a.volumes {
		if vol.v.State != volumeDestroyed && vol.v.Region == nv.region && (nv.appWide || vol.v.Name == nv.name) {
			taken[vol.v.Zone] = true
		}
	}
	for _, z := range zones {
		if !taken[z] {
			return z, true
		}
	}
	return "", false
}

// volumeIDLocked returns "vol_" and 16 lowercase letters or digits, the
// shape of Fly's volume ids (e.g. "vol_340088w293z35lp4"), unique across
// the server.
func (s *Server) volumeIDLocked() string {
	for {
		id := "vol_" + s.randomStringLocked("0123456789abcdefghijklmnopqrstuvwxyz", 16)
		if _, taken := s.volumes[id]; !taken {
			return id
		}
	}
}

func (s *Server) randomStringLocked(alphabet string, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[s.rng.IntN(len(alphabet))]
	}
	return string(b)
}

// destroyVolumeLocked starts a volume's way out: pending_destroy at once,
// which fly-go's GetVolumes already hides, and destroyed shortly after.
func (s *Server) destroyVolumeLocked(vol *volume) {
	vol.v.State = volumePendingDestroy
	s.logVolumeLocked(vol, 0) // gone from every list from now on
	s.afterLocked(s.shortTime(), func() { vol.v.State = volumeDestroyed })
}

// destroyVolumeNowLocked skips pending_destroy, for app deletion.
func (s *Server) destroyVolumeNowLocked(vol *volume) {
	if vol.live() {
		s.logVolumeLocked(vol, 0)
	}
	vol.attached = nil
	vol.v.State = volumeDestroyed
}
