package echo

import (
	"bytes"
	"testing"

	"servercore/examples/internal/apptest"
)

// Packets of every size, several in one write, come back unchanged and in
// order, to their sender only.
func TestEchoesToSender(t *testing.T) {
	addr := apptest.Serve(t, NewSession)
	a, b := apptest.Dial(t, addr), apptest.Dial(t, addr)
	var want [][]byte
	var all []byte
	for i, size := range []int{0, 1, 60, 1020, 65531} {
		p := apptest.Packet(uint16(100+i), bytes.Repeat([]byte{byte(i + 1)}, size))
		want = append(want, p)
		all = append(all, p...)
	}
	go a.Write(all) // written while the replies are read
	for i, w := range want {
		if got := apptest.ReadPacket(t, a); !bytes.Equal(got, w) {
			t.Fatalf("packet %d: got %d bytes back, want the %d sent", i, len(got), len(w))
		}
	}

	// b sent nothing, so its first packet back is its own.
	p := apptest.Packet(7, []byte("b's"))
	if _, err := b.Write(p); err != nil {
		t.Fatal(err)
	}
	if got := apptest.ReadPacket(t, b); !bytes.Equal(got, p) {
		t.Fatalf("b got %q, want its own %q", got, p)
	}
}
