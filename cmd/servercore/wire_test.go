package main

import (
	"testing"

	"servercore"
)

func TestPacketRoundTrip(t *testing.T) {
	for size := minPacketSize; size <= minPacketSize+40; size++ {
		pkt := make([]byte, size)
		writePacket(pkt, 7, 42, 123456789)
		h := servercore.ReadPacketHeader(pkt)
		if int(h.Size) != size || h.ID >= 0x8000 {
			t.Fatalf("size %d: header %+v", size, h)
		}
		client, seq, sentAt, f := readPacket(h.ID, pkt[servercore.HeaderSize:], size)
		if f != faultNone || client != 7 || seq != 42 || sentAt != 123456789 {
			t.Fatalf("size %d: read back client %d seq %d sentAt %d fault %v", size, client, seq, sentAt, f)
		}
	}
}

// Every single changed bit anywhere in a packet is caught, either by the
// packet's own consistency or by the fields the receiver expects.
func TestPacketEveryBitFlipDetected(t *testing.T) {
	const size = 45 // fill of 25 bytes: whole words and a tail
	const client, seq, sentAt = 3, 1000, 987654321
	orig := make([]byte, size)
	writePacket(orig, client, seq, sentAt)
	for i := range size * 8 {
		pkt := append([]byte(nil), orig...)
		pkt[i/8] ^= 1 << (i % 8)
		h := servercore.ReadPacketHeader(pkt)
		c, s, at, f := readPacket(h.ID, pkt[servercore.HeaderSize:], size)
		if int(h.Size) == size && f == faultNone && c == client && s == seq && at == sentAt {
			t.Errorf("flip of bit %d in byte %d went unnoticed", i%8, i/8)
		}
	}
}

func TestReadPacketWrongSize(t *testing.T) {
	pkt := make([]byte, 64)
	writePacket(pkt, 1, 2, 3)
	if _, _, _, f := readPacket(0, pkt[servercore.HeaderSize:], 65); f != faultSize {
		t.Errorf("fault = %v, want %v", f, faultSize)
	}
	if _, _, _, f := readPacket(0, pkt[servercore.HeaderSize:10], 10); f != faultSize {
		t.Errorf("short payload: fault = %v, want %v", f, faultSize)
	}
}

// The hot path of the clients allocates nothing per packet.
func TestPacketNoAllocs(t *testing.T) {
	pkt := make([]byte, 1024)
	allocs := testing.AllocsPerRun(100, func() {
		writePacket(pkt, 1, 2, 3)
		h := servercore.ReadPacketHeader(pkt)
		readPacket(h.ID, pkt[servercore.HeaderSize:], len(pkt))
	})
	if allocs != 0 {
		t.Errorf("%v allocations per packet, want 0", allocs)
	}
}
