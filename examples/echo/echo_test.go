package echo

import (
	"bytes"
	"testing"

	"servercore/examples/internal/apptest"
	"servercore/internal/testkit"
)

// Packets of every size, several in one write, come back unchanged and in
// order, to their sender only.
func TestEchoesToSender(t *testing.T) {
	addr := apptest.Serve(t, NewSession)
	a, b := testkit.Dial(t, addr), testkit.Dial(t, addr)
	type packet struct {
		id      uint16
		payload []byte
	}
	var want []packet
	var all []byte
	for i, size := range []int{0, 1, 60, 1020, 65531} {
		p := packet{uint16(100 + i), bytes.Repeat([]byte{byte(i + 1)}, size)}
		want = append(want, p)
		all = testkit.AppendPacket(all, p.id, p.payload)
	}
	go a.TimedWrite(all) // written while the replies are read
	for _, w := range want {
		a.Expect(w.id, w.payload)
	}

	// b sent nothing, so its first packet back is its own.
	b.Echo(7, []byte("b's"))
}
