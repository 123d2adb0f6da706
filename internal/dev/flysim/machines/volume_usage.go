package machines

import (
	"time"
)

// The simulator's truth about volumes, for tests of billing, as usage.go
// is for machines. Fly lists a volume while it lives and forgets it once
// destroyed; a client must meter it from what it saw. This log is what
// happened: the volume's size from its creation on (each extend), and its
// destroy (a DELETE accepted, or its app deleted), stamped by Options.Now
// and kept for destroyed volumes and those of deleted apps. Like the other
// inspection helpers these are not requests and are never rate limited.

// volumeChange is one entry of a volume's size log; sizeGB 0 is its
// destroy.
type volumeChange struct {
	at     time.Time
	sizeGB int
}

// VolumeChange is one entry of a volume's size log.
type VolumeChange struct {
	At time.Time // by Options.Now
	// SizeGB is the volume's size from At on; 0 once it is destroyed.
	SizeGB int
}

func (s *Server) logVolumeLocked(vol *volume, sizeGB int) {
	vol.sizes = append(vol.sizes, volumeChange{at: s.now(), sizeGB: sizeGB})
}

// VolumeHistory is volumeID's size log, oldest first, from its creation on.
// Unknown volume: nil.
func (s *Server) VolumeHistory(volumeID string) []VolumeChange {
	s.mu.Lock()
	defer s.mu.Unlock()
	vol := s.volumes[volumeID]
	if vol == nil {
		return nil
	}
	out := make([]VolumeChange, len(vol.sizes))
	for i, c := range vol.sizes {
		out[i] = VolumeChange{At: c.at, SizeGB: c.sizeGB}
	}
	return out
}

// VolumeTime is how long volumeID existed at each size (GB) within
// [from, to). A volume not destroyed counts up to the earlier of to and
// Options.Now. Unknown volume, or from not before to: empty.
func (s *Server) VolumeTime(volumeID string, from, to time.Time) map[int]time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[int]time.Duration{}
	vol := s.volumes[volumeID]
	if vol == nil {
		return out
	}
	now := s.now()
	if now.Before(to) {
		to = now
	}
	for i, c := range vol.sizes {
		if c.sizeGB == 0 {
			break // destroyed
		}
		start, end := c.at, now
		if i+1 < len(vol.sizes) {
			end = vol.sizes[i+1].at
		}
		start, end = later(start, from), earlier(end, to)
		if end.After(start) {
			out[c.sizeGB] += end.Sub(start)
		}
	}
	return out
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
