package load

import (
	"bytes"
	"encoding/binary"
	"fmt"
)

// The packets the generator sends, after the 4-byte header
// [size u16 LE][id u16 LE]:
//
//	echo:      [conn u32][seq u64][pattern...]
//	broadcast: [sender u32][seq u64][sent-at ns i64][pattern...]
//
// The pattern is a window into a fixed pseudo-random table whose offset
// depends on the connection (or sender), the sequence number and the packet
// id, so a packet delivered to the wrong place, out of order, stale or with
// any byte changed fails verification. Filling and checking it is a memmove
// and a memcmp: cheap enough that the generator is not the bottleneck.
const (
	HeaderSize = 4
	// MaxPacket is the largest packet the wire format describes.
	MaxPacket = 65535

	echoFixed  = 12 // conn + seq
	bcastFixed = 20 // sender + seq + timestamp

	// MinEchoSize and MinBroadcastSize are the smallest packets each mode
	// can carry its fields in.
	MinEchoSize      = HeaderSize + echoFixed
	MinBroadcastSize = HeaderSize + bcastFixed

	// Packet ids.
	idBroadcast = 1
	idPing      = 2

	patternWindow = 1 << 16
)

// pattern is patternWindow+MaxPacket bytes of xorshift output.
var pattern = func() []byte {
	p := make([]byte, patternWindow+MaxPacket)
	x := uint64(0x9E3779B97F4A7C15)
	for i := range p {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		p[i] = byte(x >> 24)
	}
	return p
}()

func patternOffset(who uint32, seq uint64, id uint16) int {
	h := uint64(who)*0x9E3779B1 + seq*0x85EBCA77 + uint64(id)*0xC2B2AE3D
	h ^= h >> 29
	return int(h & (patternWindow - 1))
}

func putHeader(b []byte, size int, id uint16) {
	binary.LittleEndian.PutUint16(b, uint16(size))
	binary.LittleEndian.PutUint16(b[2:], id)
}

// PutEcho writes the echo packet of connection conn with sequence seq into
// b[:size]. Its id is the low 16 bits of seq.
func PutEcho(b []byte, size int, conn uint32, seq uint64) {
	id := uint16(seq)
	putHeader(b, size, id)
	binary.LittleEndian.PutUint32(b[4:], conn)
	binary.LittleEndian.PutUint64(b[8:], seq)
	off := patternOffset(conn, seq, id)
	copy(b[HeaderSize+echoFixed:size], pattern[off:])
}

// CheckEcho verifies that pkt is exactly the echo packet PutEcho makes for
// conn and seq, every byte of it.
func CheckEcho(pkt []byte, size int, conn uint32, seq uint64) error {
	if len(pkt) != size {
		return fmt.Errorf("packet of %d bytes, want %d", len(pkt), size)
	}
	if s := int(binary.LittleEndian.Uint16(pkt)); s != size {
		return fmt.Errorf("size field %d, want %d", s, size)
	}
	if id := binary.LittleEndian.Uint16(pkt[2:]); id != uint16(seq) {
		return fmt.Errorf("id %d, want %d", id, uint16(seq))
	}
	if c := binary.LittleEndian.Uint32(pkt[4:]); c != conn {
		return fmt.Errorf("conn field %d, want %d", c, conn)
	}
	if s := binary.LittleEndian.Uint64(pkt[8:]); s != seq {
		return fmt.Errorf("seq %d, want %d", s, seq)
	}
	off := patternOffset(conn, seq, uint16(seq))
	if !bytes.Equal(pkt[HeaderSize+echoFixed:], pattern[off:off+size-HeaderSize-echoFixed]) {
		return fmt.Errorf("payload bytes differ (conn %d seq %d)", conn, seq)
	}
	return nil
}

// PutBroadcast writes a broadcast packet (id idBroadcast or idPing) of
// sender with sequence seq and send time at into b[:size].
func PutBroadcast(b []byte, size int, id uint16, sender uint32, seq uint64, at int64) {
	putHeader(b, size, id)
	binary.LittleEndian.PutUint32(b[4:], sender)
	binary.LittleEndian.PutUint64(b[8:], seq)
	binary.LittleEndian.PutUint64(b[16:], uint64(at))
	off := patternOffset(sender, seq, id)
	copy(b[HeaderSize+bcastFixed:size], pattern[off:])
}

// BroadcastFields are the fields of a verified broadcast packet.
type BroadcastFields struct {
	ID     uint16
	Sender uint32
	Seq    uint64
	At     int64
}

// CheckBroadcast verifies a broadcast packet's size, id and pattern and
// returns its fields; the caller checks them against what it expects.
func CheckBroadcast(pkt []byte, size int) (BroadcastFields, error) {
	var f BroadcastFields
	if len(pkt) != size {
		return f, fmt.Errorf("packet of %d bytes, want %d", len(pkt), size)
	}
	if s := int(binary.LittleEndian.Uint16(pkt)); s != size {
		return f, fmt.Errorf("size field %d, want %d", s, size)
	}
	f.ID = binary.LittleEndian.Uint16(pkt[2:])
	if f.ID != idBroadcast && f.ID != idPing {
		return f, fmt.Errorf("unknown id %d", f.ID)
	}
	f.Sender = binary.LittleEndian.Uint32(pkt[4:])
	f.Seq = binary.LittleEndian.Uint64(pkt[8:])
	f.At = int64(binary.LittleEndian.Uint64(pkt[16:]))
	off := patternOffset(f.Sender, f.Seq, f.ID)
	if !bytes.Equal(pkt[HeaderSize+bcastFixed:], pattern[off:off+size-HeaderSize-bcastFixed]) {
		return f, fmt.Errorf("payload bytes differ (sender %d seq %d)", f.Sender, f.Seq)
	}
	return f, nil
}
