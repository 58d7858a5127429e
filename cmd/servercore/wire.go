package main

import (
	"encoding/binary"

	"servercore"
)

// Every data packet the stress clients send describes itself, so whoever
// receives it can check every byte. After the 4-byte packet header comes
//
//	[0:4)   client id, uint32 little-endian
//	[4:8)   sequence number, uint32: 0, 1, 2, ... per client
//	[8:16)  send time, int64: nanoseconds since the run started
//	[16:)   fill: a pseudo-random pattern seeded by the three fields above
//
// and the packet id is drawn from the same seed. A changed byte anywhere in
// the packet, header included, therefore breaks the size (framing), the id,
// the fields the receiver expects, or the fill.
const (
	payloadFields = 16
	// minPacketSize is the smallest --size: the header and the fields.
	minPacketSize = servercore.HeaderSize + payloadFields
	// helloID marks a broadcast client's "am I in the room?" packet, whose
	// payload is the client id. Data packet ids stay below 0x8000.
	helloID uint16 = 0xFFFF
)

// fault says what was wrong with a received packet.
type fault uint8

const (
	faultNone   fault = iota
	faultSize         // the packet is not --size bytes long
	faultID           // the packet id does not match the packet's fields
	faultFill         // a fill byte is wrong
	faultClient       // the client id is not the one expected
	faultOrder        // the sequence number is not the next one expected
	faultTime         // the send time is not the one recorded or not plausible
	faultExtra        // a packet arrived while none was in flight
)

func (f fault) String() string {
	switch f {
	case faultNone:
		return "ok"
	case faultSize:
		return "wrong size"
	case faultID:
		return "wrong packet id"
	case faultFill:
		return "corrupted fill bytes"
	case faultClient:
		return "wrong client id"
	case faultOrder:
		return "wrong sequence number (lost, duplicated or reordered)"
	case faultTime:
		return "wrong send time"
	case faultExtra:
		return "unexpected packet (none in flight)"
	}
	return "unknown fault"
}

// splitmix advances x and returns its next pseudo-random value (SplitMix64).
func splitmix(x *uint64) uint64 {
	*x += 0x9e3779b97f4a7c15
	z := *x
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// seed is the generator state for a packet's id and fill.
func seed(client, seq uint32, sentAt int64) uint64 {
	x := uint64(client)<<32 | uint64(seq)
	x = splitmix(&x) ^ uint64(sentAt)
	return splitmix(&x)
}

// writePacket fills pkt, a whole packet of len(pkt) bytes, with the header
// and the payload of packet seq of client sent at sentAt.
func writePacket(pkt []byte, client, seq uint32, sentAt int64) {
	st := seed(client, seq, sentAt)
	id := uint16(splitmix(&st) >> 49)
	servercore.PacketHeader{Size: uint16(len(pkt)), ID: id}.Put(pkt)
	p := pkt[servercore.HeaderSize:]
	binary.LittleEndian.PutUint32(p, client)
	binary.LittleEndian.PutUint32(p[4:], seq)
	binary.LittleEndian.PutUint64(p[8:], uint64(sentAt))
	p = p[payloadFields:]
	for len(p) >= 8 {
		binary.LittleEndian.PutUint64(p, splitmix(&st))
		p = p[8:]
	}
	if len(p) > 0 {
		v := splitmix(&st)
		for i := range p {
			p[i] = byte(v >> (8 * i))
		}
	}
}

// readPacket checks that a received packet of id and payload is size bytes
// long and consistent with its own fields, and returns those fields. The
// caller checks the fields against what it expects.
func readPacket(id uint16, payload []byte, size int) (client, seq uint32, sentAt int64, f fault) {
	if len(payload)+servercore.HeaderSize != size || len(payload) < payloadFields {
		return 0, 0, 0, faultSize
	}
	client = binary.LittleEndian.Uint32(payload)
	seq = binary.LittleEndian.Uint32(payload[4:])
	sentAt = int64(binary.LittleEndian.Uint64(payload[8:]))
	st := seed(client, seq, sentAt)
	if uint16(splitmix(&st)>>49) != id {
		return client, seq, sentAt, faultID
	}
	p := payload[payloadFields:]
	for len(p) >= 8 {
		if binary.LittleEndian.Uint64(p) != splitmix(&st) {
			return client, seq, sentAt, faultFill
		}
		p = p[8:]
	}
	if len(p) > 0 {
		v := splitmix(&st)
		for i := range p {
			if p[i] != byte(v>>(8*i)) {
				return client, seq, sentAt, faultFill
			}
		}
	}
	return client, seq, sentAt, faultNone
}
