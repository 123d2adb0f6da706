package machines

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
)

// Identifier generators. They draw from the server's seeded PRNG so a test
// that makes the same calls gets the same ids; only ULID timestamps follow
// the clock. All of them must be called with s.mu held.

const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// ulidLocked returns a 26-character ULID: 48 bits of milliseconds then 80
// random bits. Fly uses ULIDs for instance ids/versions and request ids.
func (s *Server) ulidLocked() string {
	ms := uint64(s.now().UnixMilli()) & (1<<48 - 1)
	hi := ms<<16 | s.rng.Uint64()&0xffff
	lo := s.rng.Uint64()
	var out [26]byte
	for i := 25; i >= 0; i-- {
		out[i] = crockford[lo&31]
		lo = lo>>5 | hi<<59
		hi >>= 5
	}
	return string(out[:])
}

// machineIDLocked returns 14 lowercase hex characters, the shape of Fly
// machine ids (e.g. "21781502a57489"), unique across the server.
func (s *Server) machineIDLocked() string {
	for {
		id := fmt.Sprintf("%014x", s.rng.Uint64()&(1<<56-1))
		if _, taken := s.machines[id]; !taken {
			return id
		}
	}
}

// appIDLocked returns an opaque app id. Callers must not assume it equals
// the app name, so it deliberately does not.
func (s *Server) appIDLocked() string {
	const alphabet = "0123456789abcdefghijklmnopqrstuvwxyz"
	var b [16]byte
	for i := range b {
		b[i] = alphabet[s.rng.IntN(len(alphabet))]
	}
	return string(b[:])
}

func (s *Server) nonceLocked() string {
	return fmt.Sprintf("%016x%016x", s.rng.Uint64(), s.rng.Uint64())
}

var (
	nameAdjectives = []string{"ancient", "billowing", "bitter", "crimson", "dawn", "empty", "falling", "frosty", "gentle", "hidden", "lingering", "misty", "old", "patient", "quiet", "restless", "shy", "silent", "still", "wandering"}
	nameNouns      = []string{"bird", "brook", "butterfly", "cloud", "dew", "dream", "field", "fire", "forest", "glade", "hill", "lake", "leaf", "meadow", "moon", "pine", "river", "sea", "star", "wave"}
)

// machineNameLocked mimics Fly's generated "adjective-noun-1234" names.
func (s *Server) machineNameLocked() string {
	return fmt.Sprintf("%s-%s-%04d",
		nameAdjectives[s.rng.IntN(len(nameAdjectives))],
		nameNouns[s.rng.IntN(len(nameNouns))],
		s.rng.IntN(10000))
}

// orgNetwork derives the 16-bit network number that Fly embeds in an
// organization's 6PN addresses (fdaa:0:<net>:...).
func orgNetwork(slug string) uint16 {
	sum := sha256.Sum256([]byte("org:" + slug))
	n := binary.BigEndian.Uint16(sum[:2])
	if n == 0 {
		n = 1
	}
	return n
}

// uniqueIPLocked calls gen until it yields an address not yet handed out.
func (s *Server) uniqueIPLocked(gen func() string) string {
	for {
		ip := gen()
		if !s.usedIPs[ip] {
			s.usedIPs[ip] = true
			return ip
		}
	}
}

// privateIPLocked is a machine's 6PN address, e.g.
// fdaa:0:5ea6:a7b:2c00:6855:66c7:2.
func (s *Server) privateIPLocked() string {
	return s.uniqueIPLocked(func() string {
		return fmt.Sprintf("fdaa:0:%x:a7b:%x:%x:%x:2", s.orgNet,
			1+s.rng.IntN(0xfffe), 1+s.rng.IntN(0xfffe), 1+s.rng.IntN(0xfffe))
	})
}
