package port

import (
	"net"
	"sync"
	"testing"
	"time"
)

// TestSlotGenerations: a slot given to a new connection carries a
// generation its earlier holders did not have, so a completion still in
// the kernel for an earlier holder is recognised as stale.
func TestSlotGenerations(t *testing.T) {
	l := &uloop{conns: []*uconn{nil}}
	seen := map[uint64]bool{}
	var prev *uconn
	for i := range 1000 {
		c := &uconn{l: l}
		l.addConn(c)
		if prev != nil && c.slot != prev.slot {
			t.Fatalf("round %d: slot %d, want the freed slot %d again", i, c.slot, prev.slot)
		}
		ud := c.ud(opRecv)
		if seen[ud] {
			t.Fatalf("round %d: slot %d generation %d was used before", i, c.slot, c.gen)
		}
		seen[ud] = true
		if slot, gen, kind := splitUserData(ud); slot != c.slot || gen != c.gen || kind != opRecv {
			t.Fatalf("splitUserData(userData(%d, %d, %d)) = %d, %d, %d", c.slot, c.gen, opRecv, slot, gen, kind)
		}
		l.removeConn(c)
		prev = c
	}
	// The generation wraps within the bits user data carries.
	l.freeSlots[0].gen = genMask
	c := &uconn{l: l}
	l.addConn(c)
	if c.gen != 0 {
		t.Errorf("after generation %d the next is %d, want 0", genMask, c.gen)
	}
}

// acceptOwner records the loop of every accepted connection and closes it.
type acceptOwner struct {
	mu    sync.Mutex
	loops []int
	got   chan struct{}
}

func (o *acceptOwner) Dispatch(ev *Event) {
	if ev.Err != nil || ev.Conn == nil {
		return
	}
	c := ev.Conn.(*uconn)
	o.mu.Lock()
	o.loops = append(o.loops, c.l.id)
	o.mu.Unlock()
	c.Close(nil)
	o.got <- struct{}{}
}

func (o *acceptOwner) Gather(*Event) [][]byte { return nil }

// TestUringAcceptSpreads: accepted connections are served by every loop in
// turn, not by the one loop the kernel wakes for each of them.
func TestUringAcceptSpreads(t *testing.T) {
	if err := ProbeUring(); err != nil {
		t.Skipf("io_uring unavailable: %v", err)
	}
	const loops, conns = 3, 12
	e, err := NewUring(loops)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	o := &acceptOwner{got: make(chan struct{}, conns)}
	ln, err := e.Listen("tcp", "127.0.0.1:0", &Event{Type: Accept, Owner: o})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	for i := range conns {
		nc, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		select {
		case <-o.got:
		case <-time.After(5 * time.Second):
			t.Fatalf("connection %d not accepted", i)
		}
	}
	perLoop := make([]int, loops)
	for _, id := range o.loops {
		perLoop[id]++
	}
	for id, n := range perLoop {
		if n != conns/loops {
			t.Errorf("loop %d served %d of %d connections, want %d each: %v", id, n, conns, conns/loops, perLoop)
		}
	}
}
