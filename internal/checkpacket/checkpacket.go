// Package checkpacket is a packet format that checks itself: a packet
// carries its sender, its sequence number and its send time, and every
// other byte of it is derived from those, so a receiver can verify each one.
//
// It writes the packet header itself rather than importing servercore, so
// that a load generator checks every server it measures with the same code.
package checkpacket

import (
	"bytes"
	"encoding/binary"
	"errors"
	"sync"
)

// A packet, header included, is laid out as
//
//	[0:2)   size, uint16 little-endian: the whole packet
//	[2:4)   packet id, derived from the fields below
//	[4:8)   connection, uint32 little-endian
//	[8:12)  sequence number, uint32
//	[12:20) send time, int64
//	[20:)   fill: a window into a fixed pseudo-random table, at an offset
//	        derived from the fields
//
// A changed byte anywhere therefore breaks the size (framing), the id, the
// fill, or the fields the receiver expects. Filling and checking is a
// memmove and a memcmp, cheap enough that a load generator is not the
// bottleneck.
const (
	// HeaderSize is the size of the packet header: size and id.
	HeaderSize = 4
	// FieldsSize is the size of the fields after the header.
	FieldsSize = 16
	// MinSize is the smallest packet: the header and the fields.
	MinSize = HeaderSize + FieldsSize
	// MaxSize is the largest packet the header can describe.
	MaxSize = 65535
	// MaxID is the largest id a packet has; ids above it are free for a
	// protocol's own packets.
	MaxID = 0x7FFF

	patternWindow = 1 << 16
)

// Check's errors.
var (
	ErrSize = errors.New("wrong size")
	ErrID   = errors.New("wrong packet id")
	ErrFill = errors.New("corrupted fill bytes")
)

// Fields are what a packet carries; the rest of it is derived from them.
type Fields struct {
	Conn   uint32 // the sending connection or client
	Seq    uint32 // the packet's number among its sender's packets
	SentAt int64  // when it was sent, in nanoseconds on the sender's clock
}

// pattern returns the fill's table: patternWindow+MaxSize bytes of
// xorshift output, read-only once made. It is made on first use, so that a
// server that only links an application's bot in costs nothing.
var pattern = sync.OnceValue(func() []byte {
	p := make([]byte, patternWindow+MaxSize)
	x := uint64(0x9E3779B97F4A7C15)
	for i := range p {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		p[i] = byte(x >> 24)
	}
	return p
})

// mix advances x and returns its next pseudo-random value (SplitMix64).
func mix(x *uint64) uint64 {
	*x += 0x9e3779b97f4a7c15
	z := *x
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// derive returns the id and the fill's offset of a packet of f. Every step
// is a bijection, so fields that differ anywhere give another hash.
func (f Fields) derive() (id uint16, off int) {
	x := uint64(f.Conn)<<32 | uint64(f.Seq)
	x = mix(&x) ^ uint64(f.SentAt)
	h := mix(&x)
	return uint16(h >> 49), int(h & (patternWindow - 1))
}

// Put writes the packet of f into pkt, a whole packet of len(pkt) bytes,
// MinSize to MaxSize.
func Put(pkt []byte, f Fields) {
	id, off := f.derive()
	binary.LittleEndian.PutUint16(pkt, uint16(len(pkt)))
	binary.LittleEndian.PutUint16(pkt[2:], id)
	binary.LittleEndian.PutUint32(pkt[4:], f.Conn)
	binary.LittleEndian.PutUint32(pkt[8:], f.Seq)
	binary.LittleEndian.PutUint64(pkt[12:], uint64(f.SentAt))
	copy(pkt[MinSize:], pattern()[off:])
}

// Check verifies that a received packet of id and payload (what follows
// the header) is consistent with its own fields, and returns them; the
// caller checks the fields and the size against what it expects.
func Check(id uint16, payload []byte) (Fields, error) {
	if len(payload) < FieldsSize || len(payload) > MaxSize-HeaderSize {
		return Fields{}, ErrSize
	}
	f := Fields{
		Conn:   binary.LittleEndian.Uint32(payload),
		Seq:    binary.LittleEndian.Uint32(payload[4:]),
		SentAt: int64(binary.LittleEndian.Uint64(payload[8:])),
	}
	want, off := f.derive()
	if id != want {
		return f, ErrID
	}
	fill := payload[FieldsSize:]
	if !bytes.Equal(fill, pattern()[off:off+len(fill)]) {
		return f, ErrFill
	}
	return f, nil
}

// ReadHeader returns the size and the id in the header of pkt, which holds
// at least HeaderSize bytes.
func ReadHeader(pkt []byte) (size int, id uint16) {
	return int(binary.LittleEndian.Uint16(pkt)), binary.LittleEndian.Uint16(pkt[2:])
}
