package load

import (
	"testing"

	"servercore/internal/checkpacket"
)

func TestEchoVerifierCatchesEveryByte(t *testing.T) {
	for _, size := range []int{checkpacket.MinSize, 64, 1024, checkpacket.MaxSize} {
		pkt := make([]byte, size)
		putEcho(pkt, 7, 12345)
		if err := checkEcho(pkt, 7, 12345); err != nil {
			t.Fatalf("size %d: a good packet fails: %v", size, err)
		}
		for i := range size {
			bad := append([]byte(nil), pkt...)
			bad[i] ^= 0x40
			if checkEcho(bad, 7, 12345) == nil {
				t.Errorf("size %d: byte %d corrupted and not detected", size, i)
			}
		}
		if checkEcho(pkt, 8, 12345) == nil || checkEcho(pkt, 7, 12346) == nil {
			t.Errorf("size %d: packet of another connection or sequence accepted", size)
		}
	}
}

func TestBroadcastVerifier(t *testing.T) {
	pkt := make([]byte, 100)
	putBroadcast(pkt, 3, 9, 777)
	f, err := readPacket(pkt)
	if err != nil || f != (checkpacket.Fields{Conn: 3, Seq: 9, SentAt: 777}) {
		t.Fatalf("got %+v, %v", f, err)
	}
	for _, i := range []int{0, 2, 12, 99} {
		bad := append([]byte(nil), pkt...)
		bad[i] ^= 1
		if _, err := readPacket(bad); err == nil {
			t.Errorf("corrupted byte %d not detected", i)
		}
	}
}

// The generator's hot path allocates nothing per packet.
func TestPacketsNoAllocs(t *testing.T) {
	pkt := make([]byte, 1024)
	allocs := testing.AllocsPerRun(100, func() {
		putEcho(pkt, 1, 2)
		if checkEcho(pkt, 1, 2) != nil {
			t.Fatal("echo packet fails")
		}
		putBroadcast(pkt, 1, 2, 3)
		if _, err := readPacket(pkt); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per packet, want 0", allocs)
	}
}
