package state

import (
	"crypto/rand"
	"encoding/binary"
)

// opID is a ULID: 48 bits of Unix milliseconds, then 80 random bits.
type opID struct {
	ms   uint64
	rand [10]byte
}

// crockford is Crockford's base 32, which sorts like the numbers it encodes.
const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// NewOpID returns a new operation id: a 26-character ULID whose order is
// the order of the calls on this store (monotonic within a millisecond and
// when the clock steps back), so an app's operations sort by time.
func (s *Store) NewOpID() string {
	ms := uint64(s.now().UnixMilli())
	s.idMu.Lock()
	defer s.idMu.Unlock()
	id := opID{ms: ms}
	if ms <= s.lastID.ms {
		id = s.lastID
		if !increment(&id.rand) {
			id.ms++
		}
	} else {
		_, _ = rand.Read(id.rand[:]) // never fails (crypto/rand)
	}
	s.lastID = id
	return id.String()
}

// increment adds one to b as a big-endian number, reporting false when it
// wrapped around.
func increment(b *[10]byte) bool {
	for i := len(b) - 1; i >= 0; i-- {
		b[i]++
		if b[i] != 0 {
			return true
		}
	}
	return false
}

func (id opID) String() string {
	// 128 bits: hi holds the time and the first 2 random bytes.
	hi := id.ms<<16 | uint64(id.rand[0])<<8 | uint64(id.rand[1])
	lo := binary.BigEndian.Uint64(id.rand[2:])
	var out [26]byte
	for i := len(out) - 1; i >= 0; i-- {
		out[i] = crockford[lo&31]
		lo = lo>>5 | hi<<59
		hi >>= 5
	}
	return string(out[:])
}
