package machines

import (
	"crypto/sha256"
	"fmt"
	"net/http"
	"time"

	fly "github.com/superfly/fly-go"

	"github.com/jetway-dev/jetway/internal/dev/flysim/internal/respond"
)

// Volume snapshots. Fly snapshots every volume daily and on demand, keeps
// each for the volume's snapshot_retention days, and can restore one into
// a new volume (create volume with snapshot_id). flysim takes them on
// demand only (POST .../snapshots): a daily one would make the list depend
// on how long a test ran. A snapshot outlives its volume until it expires,
// as Fly's do, and is then gone from every list.

type snapshot struct {
	vol     *volume
	s       fly.VolumeSnapshot
	expires time.Time // by Options.Now
}

// gib is a GiB in bytes. Snapshot sizes are bytes: fly-go's Size is an int
// and Fly's GraphQL API gives the same field as a byte count. The unit of
// volume_size is not documented; flysim uses bytes for it too.
const gib = 1 << 30

// snapshotsLive are vol's snapshots still within their retention at now,
// oldest first.
func snapshotsLive(vol *volume, now time.Time) []*snapshot {
	out := []*snapshot{}
	for _, sn := range vol.snapshots {
		if now.Before(sn.expires) {
			out = append(out, sn)
		}
	}
	return out
}

// snapshotIDLocked returns "vs_" and 23 letters or digits, the shape of
// the snapshot ids flyctl prints (e.g. "vs_zQpa3DVD0nAI35k7J72DgQB").
func (s *Server) snapshotIDLocked() string {
	const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	for {
		id := "vs_" + s.randomStringLocked(alphabet, 23)
		if _, taken := s.snapshots[id]; !taken {
			return id
		}
	}
}

// takeSnapshotLocked snapshots vol now. Nothing is ever written to a
// simulated volume, so the snapshot's size is the whole volume: the upper
// bound of what Fly would store.
func (s *Server) takeSnapshotLocked(vol *volume) *snapshot {
	now := s.now()
	retention := vol.v.SnapshotRetention
	id := s.snapshotIDLocked()
	sn := &snapshot{
		vol: vol,
		s: fly.VolumeSnapshot{
			ID:            id,
			Size:          vol.v.SizeGb * gib,
			VolumeSize:    vol.v.SizeGb * gib,
			Digest:        fmt.Sprintf("%x", sha256.Sum256([]byte(id))),
			CreatedAt:     now,
			Status:        "created",
			RetentionDays: &retention,
		},
		expires: now.Add(time.Duration(retention) * 24 * time.Hour),
	}
	vol.snapshots = append(vol.snapshots, sn)
	s.snapshots[id] = sn
	return sn
}

// listSnapshots answers for destroyed volumes too: their snapshots stay
// until they expire, and this is where they are found.
func (s *Server) listSnapshots(r *http.Request) respond.Reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	vol, rp := s.volumeLocked(r)
	if vol == nil {
		return rp
	}
	out := []fly.VolumeSnapshot{}
	for _, sn := range snapshotsLive(vol, s.now()) {
		out = append(out, sn.s)
	}
	return respond.JSON(http.StatusOK, out)
}

// createSnapshot answers 200 without a body: the spec gives this call no
// response schema and fly-go reads none, so there is nothing a caller
// should come to rely on. The snapshot shows up in the list.
func (s *Server) createSnapshot(r *http.Request) respond.Reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	vol, rp := s.liveVolumeLocked(r)
	if vol == nil {
		return rp
	}
	s.takeSnapshotLocked(vol)
	return respond.Empty(http.StatusOK)
}

// restorableSnapshotLocked resolves a create-volume request's snapshot_id.
// flysim restores only within the app and the region the snapshot was
// taken in, and into a volume at least as big as the one snapshotted:
// whether Fly restores across regions is not documented, so the strict
// side.
func (s *Server) restorableSnapshotLocked(a *app, nv *newVolume) (respond.Reply, bool) {
	sn := s.snapshots[nv.snapshotID]
	if sn == nil || sn.vol.app != a || !s.now().Before(sn.expires) {
		return respond.Err(http.StatusNotFound, fmt.Sprintf("snapshot %s not found", nv.snapshotID)), false
	}
	if sn.vol.v.Region != nv.region {
		return respond.Err(http.StatusBadRequest, fmt.Sprintf("invalid_argument: snapshot %s is in region %s, not %s; flysim restores a snapshot only in its own region", sn.s.ID, sn.vol.v.Region, nv.region)), false
	}
	minGB := (sn.s.VolumeSize + gib - 1) / gib
	if nv.sizeGB == 0 {
		nv.sizeGB = minGB
	}
	if nv.sizeGB < minGB {
		return respond.Err(http.StatusBadRequest, fmt.Sprintf("invalid_argument: size_gb %d is smaller than snapshot %s's volume of %d GB", nv.sizeGB, sn.s.ID, minGB)), false
	}
	return respond.Reply{}, true
}
