package servercore

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"testing"

	"servercore/internal/testkit"
)

func TestPacketHeaderPutRead(t *testing.T) {
	for _, h := range []PacketHeader{{4, 0}, {5, 1}, {0x1234, 0xABCD}, {65535, 65535}, {0, 0}} {
		var b [HeaderSize]byte
		h.Put(b[:])
		want := []byte{byte(h.Size), byte(h.Size >> 8), byte(h.ID), byte(h.ID >> 8)}
		if !bytes.Equal(b[:], want) {
			t.Errorf("Put(%+v) = % x, want % x (little-endian size then id)", h, b, want)
		}
		if got := ReadPacketHeader(b[:]); got != h {
			t.Errorf("ReadPacketHeader(Put(%+v)) = %+v", h, got)
		}
	}
}

func TestNextPacket(t *testing.T) {
	hdr := func(size, id uint16) []byte {
		return binary.LittleEndian.AppendUint16(binary.LittleEndian.AppendUint16(nil, size), id)
	}
	cat := func(bs ...[]byte) []byte { return bytes.Join(bs, nil) }
	tests := []struct {
		name     string
		data     []byte
		max      int
		id       uint16
		payload  []byte
		size     int
		need     int
		protocol bool
	}{
		{name: "empty", data: nil, max: 100},
		{name: "1 byte", data: []byte{8}, max: 100},
		{name: "3 bytes", data: []byte{8, 0, 1}, max: 100},
		{name: "header only of 8", data: hdr(8, 1), max: 100, need: 8},
		{name: "7 of 8", data: cat(hdr(8, 1), []byte{1, 2, 3}), max: 100, need: 8},
		{name: "whole", data: cat(hdr(8, 9), []byte{1, 2, 3, 4}), max: 100, id: 9, payload: []byte{1, 2, 3, 4}, size: 8, need: 8},
		{name: "whole and more", data: cat(hdr(6, 2), []byte{5, 6}, hdr(4, 3)), max: 100, id: 2, payload: []byte{5, 6}, size: 6, need: 6},
		{name: "empty payload", data: hdr(4, 7), max: 4, id: 7, payload: []byte{}, size: 4, need: 4},
		{name: "exactly max", data: cat(hdr(10, 1), make([]byte, 6)), max: 10, id: 1, payload: make([]byte, 6), size: 10, need: 10},
		{name: "size 0", data: hdr(0, 1), max: 100, protocol: true},
		{name: "size 1", data: hdr(1, 1), max: 100, protocol: true},
		{name: "size 2", data: hdr(2, 1), max: 100, protocol: true},
		{name: "size 3", data: cat(hdr(3, 1), []byte{1, 2, 3}), max: 100, protocol: true},
		{name: "max+1", data: hdr(1025, 1), max: 1024, protocol: true},
		{name: "65535 over 1024", data: hdr(65535, 1), max: 1024, protocol: true},
		{name: "65535 at the wire max", data: hdr(65535, 1), max: MaxPacketSize, need: 65535},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, payload, size, need, err := NextPacket(tt.data, tt.max)
			if tt.protocol {
				if !errors.Is(err, ErrProtocol) {
					t.Fatalf("err = %v, want ErrProtocol", err)
				}
				if size != 0 || payload != nil {
					t.Errorf("with an error: size %d, payload %v; want 0, nil", size, payload)
				}
				return
			}
			if err != nil {
				t.Fatalf("err = %v", err)
			}
			if id != tt.id || size != tt.size || need != tt.need || !bytes.Equal(payload, tt.payload) || (tt.size > 0 && payload == nil) {
				t.Errorf("got id %d payload %v size %d need %d; want id %d payload %v size %d need %d",
					id, payload, size, need, tt.id, tt.payload, tt.size, tt.need)
			}
			if size > 0 && len(payload) > 0 && &payload[0] != &tt.data[HeaderSize] {
				t.Errorf("payload is not a subslice of data")
			}
		})
	}
}

func TestNewPacketBytes(t *testing.T) {
	for _, n := range []int{0, 1, 60, 1000, sendChunkMax - HeaderSize, sendChunkMax, 40000, MaxPacketSize - HeaderSize} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			p := testkit.Payload(n, n)
			b := NewPacket(0xBEEF, p)
			defer b.Release()
			want := testkit.AppendPacket(nil, 0xBEEF, p)
			if !bytes.Equal(b.Bytes(), want) {
				t.Fatalf("NewPacket bytes differ: got % x..., want % x...", b.Bytes()[:min(8, b.Len())], want[:8])
			}
			if b.Len() != HeaderSize+n {
				t.Fatalf("Len = %d, want %d", b.Len(), HeaderSize+n)
			}
			if cap(b.Bytes()) != b.Len() {
				t.Errorf("cap(Bytes()) = %d > Len %d: appending would write into the chunk", cap(b.Bytes()), b.Len())
			}
		})
	}
}

func TestNewPacketTooLargePanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("NewPacket with a payload making a packet above 65535 bytes did not panic")
		}
	}()
	NewPacket(1, make([]byte, MaxPacketSize-HeaderSize+1))
}

// ---------------------------------------------------------------------------
// Fuzzing.

func fuzzSeeds() [][]byte {
	cat := func(bs ...[]byte) []byte { return bytes.Join(bs, nil) }
	return [][]byte{
		nil,
		{0},
		{0, 0, 0, 0},             // size 0: the original loops forever
		{1, 0, 0, 0},             // size 1..3 misalign the stream
		{2, 0, 0, 0},             //
		{3, 0, 9, 9, 9, 9},       //
		{4, 0, 1, 0},             // the smallest packet
		{255, 255, 1, 0},         // size 65535
		{1, 4, 0, 0},             // size 1025
		{8, 0, 1, 0, 1, 2, 3, 4}, //
		cat(testkit.AppendPacket(nil, 1, []byte("abc")), testkit.AppendPacket(nil, 2, nil), testkit.AppendPacket(nil, 3, []byte("hello"))),
		cat(testkit.AppendPacket(nil, 1, []byte("ok")), []byte{0, 0, 0, 0}),
		cat(testkit.AppendPacket(nil, 1, testkit.Payload(1, 300)), testkit.AppendPacket(nil, 2, testkit.Payload(2, 5))),
	}
}

// FuzzNextPacket checks NextPacket on arbitrary input: it never panics,
// returns a size within the header..maximum range that the data holds, a
// payload that is exactly the bytes after the header, errors on sizes below
// the header, and cutting packets in a loop consumes an exact prefix.
func FuzzNextPacket(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add(s, uint16(MaxPacketSize))
		f.Add(s, uint16(1024))
		f.Add(s, uint16(4))
	}
	f.Fuzz(func(t *testing.T, data []byte, maxSize uint16) {
		max := int(maxSize)
		off := 0
		for range len(data) + 1 {
			rest := data[off:]
			id, payload, size, need, err := NextPacket(rest, max)
			if len(rest) >= HeaderSize {
				h := ReadPacketHeader(rest)
				bad := int(h.Size) < HeaderSize || int(h.Size) > max
				if bad != (err != nil) {
					t.Fatalf("header size %d, max %d: err = %v", h.Size, max, err)
				}
				if err != nil && !errors.Is(err, ErrProtocol) {
					t.Fatalf("error %v does not wrap ErrProtocol", err)
				}
				if !bad && need != int(h.Size) {
					t.Fatalf("need = %d, want the header's size %d", need, h.Size)
				}
			} else if err != nil || size != 0 || need != 0 {
				t.Fatalf("%d bytes (an incomplete header): size %d need %d err %v", len(rest), size, need, err)
			}
			if err != nil || size == 0 {
				if size != 0 || (err == nil && need != 0 && need <= len(rest)) || need < 0 {
					t.Fatalf("no packet: size %d need %d with %d bytes, err %v", size, need, len(rest), err)
				}
				break
			}
			if size < HeaderSize || size > max || size > len(rest) {
				t.Fatalf("size %d outside %d..min(%d, %d)", size, HeaderSize, max, len(rest))
			}
			if id != ReadPacketHeader(rest).ID || !bytes.Equal(payload, rest[HeaderSize:size]) || len(payload) != size-HeaderSize {
				t.Fatalf("packet (id %d, %d-byte payload) is not the bytes of its header", id, len(payload))
			}
			off += size
		}
		if off > len(data) {
			t.Fatalf("consumed %d of %d bytes", off, len(data))
		}
	})
}

// FuzzFraming feeds an arbitrary byte stream, cut into reads at arbitrary
// places, through a packet session's real receive path (RecvBuffer, Clean,
// Reserve, Grow, NextPacket) on a fake connection, for engines that read
// into the session's buffer and for engines with memory of their own. The packets delivered
// must be exactly those a whole-stream parse finds, in order; a malformed
// header must disconnect the session with ErrProtocol and nothing else may.
func FuzzFraming(f *testing.F) {
	for i, s := range fuzzSeeds() {
		f.Add(s, []byte{1}, uint16(MaxPacketSize), uint8(0), false)
		f.Add(s, []byte{3, 1, 7}, uint16(1024), uint8(i), i%2 == 0)
		f.Add(s, []byte{}, uint16(16), uint8(3), true)
	}
	f.Fuzz(func(t *testing.T, data, cuts []byte, maxSize uint16, bufSize uint8, engineMemory bool) {
		max := clamp(int(maxSize), HeaderSize, MaxPacketSize)

		// The reference: a whole-stream parse.
		var want []packet
		bad := false
		for off := 0; ; {
			id, payload, size, _, err := NextPacket(data[off:], max)
			if err != nil {
				bad = true
				break
			}
			if size == 0 {
				break
			}
			want = append(want, packet{id, bytes.Clone(payload)})
			off += size
		}

		app := newTestApp()
		app.record = true
		app.onPacket = func(*testSession, uint16, []byte) {}
		cfg := app.config()
		cfg.MaxPacketSize = max
		cfg.RecvBufferSize = int(bufSize) + 1
		mk := newHarness
		if engineMemory {
			mk = newHarnessMemory
		}
		h := mk(t, cfg)
		s, fc := h.connect()
		ts := s.events.(*testSession)

		for i := 0; len(data) > 0; i++ {
			n := len(data)
			if len(cuts) > 0 {
				n = min(n, int(cuts[i%len(cuts)])%64+1)
			}
			if !feed(s, fc, data[:n]) {
				break
			}
			data = data[n:]
		}
		got := ts.received()
		if len(got) != len(want) {
			t.Fatalf("delivered %d packets %v, want %d %v", len(got), got, len(want), want)
		}
		for i := range got {
			if got[i].id != want[i].id || !bytes.Equal(got[i].payload, want[i].payload) {
				t.Fatalf("packet %d = %v, want %v", i, got[i], want[i])
			}
		}
		if fc.isClosed() != bad {
			t.Fatalf("malformed stream %v but session closed %v", bad, fc.isClosed())
		}
		if bad {
			finish(t, s, fc)
			if cause := ts.waitDisconnected(t, testkit.WaitShort); !errors.Is(cause, ErrProtocol) {
				t.Fatalf("cause %v, want ErrProtocol", cause)
			}
		}
		app.check(t, false)
	})
}
