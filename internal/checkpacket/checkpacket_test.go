package checkpacket

import (
	"errors"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	sizes := []int{MaxSize}
	for s := MinSize; s <= MinSize+40; s++ {
		sizes = append(sizes, s)
	}
	want := Fields{Conn: 7, Seq: 42, SentAt: 123456789}
	for _, size := range sizes {
		pkt := make([]byte, size)
		Put(pkt, want)
		gotSize, id := ReadHeader(pkt)
		if gotSize != size || id > MaxID {
			t.Fatalf("size %d: header size %d id %d", size, gotSize, id)
		}
		got, err := Check(id, pkt[HeaderSize:])
		if err != nil || got != want {
			t.Fatalf("size %d: read back %+v, %v", size, got, err)
		}
	}
}

// Every single changed bit anywhere in a packet is caught, either by the
// packet's own consistency or by the fields and size the receiver expects.
func TestEveryBitFlipDetected(t *testing.T) {
	want := Fields{Conn: 3, Seq: 1000, SentAt: 987654321}
	for _, size := range []int{MinSize, 45, 1024} {
		orig := make([]byte, size)
		Put(orig, want)
		for i := range size * 8 {
			pkt := append([]byte(nil), orig...)
			pkt[i/8] ^= 1 << (i % 8)
			gotSize, id := ReadHeader(pkt)
			got, err := Check(id, pkt[HeaderSize:])
			if gotSize == size && err == nil && got == want {
				t.Errorf("size %d: flip of bit %d in byte %d went unnoticed", size, i%8, i/8)
			}
		}
	}
}

// A packet of other fields never passes for the one expected.
func TestOtherFieldsDiffer(t *testing.T) {
	base := Fields{Conn: 7, Seq: 12345, SentAt: 99}
	pkt := make([]byte, 64)
	Put(pkt, base)
	for _, other := range []Fields{
		{Conn: 8, Seq: 12345, SentAt: 99},
		{Conn: 7, Seq: 12346, SentAt: 99},
		{Conn: 7, Seq: 12345, SentAt: 100},
	} {
		o := make([]byte, 64)
		Put(o, other)
		if string(o[:2]) != string(pkt[:2]) {
			t.Fatalf("%+v: the size field differs", other)
		}
		if string(o[2:4]) == string(pkt[2:4]) && string(o[20:]) == string(pkt[20:]) {
			t.Errorf("%+v: id and fill are those of %+v", other, base)
		}
	}
}

func TestCheckErrors(t *testing.T) {
	pkt := make([]byte, 64)
	Put(pkt, Fields{Conn: 1, Seq: 2, SentAt: 3})
	_, id := ReadHeader(pkt)
	for _, c := range []struct {
		name    string
		id      uint16
		payload []byte
		want    error
	}{
		{"short payload", id, pkt[HeaderSize:10], ErrSize},
		{"too long", id, make([]byte, MaxSize), ErrSize},
		{"wrong id", id ^ 1, pkt[HeaderSize:], ErrID},
		{"changed fill", id, append(append([]byte(nil), pkt[HeaderSize:63]...), pkt[63]^0x20), ErrFill},
	} {
		if _, err := Check(c.id, c.payload); !errors.Is(err, c.want) {
			t.Errorf("%s: Check = %v, want %v", c.name, err, c.want)
		}
	}
}

// Writing and checking a packet allocates nothing.
func TestNoAllocs(t *testing.T) {
	pkt := make([]byte, 1024)
	allocs := testing.AllocsPerRun(100, func() {
		Put(pkt, Fields{Conn: 1, Seq: 2, SentAt: 3})
		_, id := ReadHeader(pkt)
		if _, err := Check(id, pkt[HeaderSize:]); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per packet, want 0", allocs)
	}
}
