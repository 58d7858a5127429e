package port

import (
	"net"
	"sync"
	"sync/atomic"
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

// recvTotal is an Owner that accepts connections, receives on them and
// counts the bytes. Its first accept waits for hold to close, so that the
// other connections are accepted together, with their data waiting.
type recvTotal struct {
	hold  chan struct{}
	got   chan int
	mu    sync.Mutex
	conns []Conn
	bytes int
}

func (o *recvTotal) Dispatch(ev *Event) {
	if ev.Conn == nil {
		return
	}
	o.mu.Lock()
	o.conns = append(o.conns, ev.Conn)
	first := len(o.conns) == 1
	o.mu.Unlock()
	if first {
		<-o.hold
	}
	ev.Conn.Recv(&Event{Type: Recv, Owner: &recvConn{o: o, c: ev.Conn}})
}

func (o *recvTotal) Gather(*Event) [][]byte { return nil }

type recvConn struct {
	o *recvTotal
	c Conn
}

func (r *recvConn) Dispatch(ev *Event) {
	if ev.Err != nil || ev.N == 0 {
		return
	}
	r.o.mu.Lock()
	r.o.bytes += int(ev.N)
	n := r.o.bytes
	r.o.mu.Unlock()
	r.o.got <- n
	r.c.Recv(ev)
}

func (r *recvConn) Gather(*Event) [][]byte { return nil }

// TestUringRecvBuffersGrow: a loop provides few receive buffers at first
// and more when receives run out of them; nothing received is lost.
func TestUringRecvBuffersGrow(t *testing.T) {
	if err := ProbeUring(); err != nil {
		t.Skipf("io_uring unavailable: %v", err)
	}
	const conns, size = 4 * recvBufFirst, 1000
	eng, err := NewUring(1)
	if err != nil {
		t.Fatal(err)
	}
	e := eng.(*Uring)
	o := &recvTotal{hold: make(chan struct{}), got: make(chan int, 4*conns)}
	ln, err := e.Listen("tcp", "127.0.0.1:0", &Event{Type: Accept, Owner: o})
	if err != nil {
		t.Fatal(err)
	}
	clients := make([]net.Conn, conns)
	for i := range clients {
		if clients[i], err = net.Dial("tcp", ln.Addr().String()); err != nil {
			t.Fatal(err)
		}
		defer clients[i].Close()
	}
	msg := make([]byte, size)
	for _, c := range clients {
		if _, err := c.Write(msg); err != nil {
			t.Fatal(err)
		}
	}
	close(o.hold) // the loop was held in the first accept: the rest waits in the kernel
	deadline := time.After(10 * time.Second)
	for n := 0; n < conns*size; {
		select {
		case n = <-o.got:
		case <-deadline:
			t.Fatalf("received %d of %d bytes", n, conns*size)
		}
	}
	o.mu.Lock()
	for _, c := range o.conns {
		c.Close(nil)
	}
	o.mu.Unlock()
	ln.Close()
	e.Close()
	if p := e.loops[0].bufs.Provided(); p <= recvBufFirst {
		t.Errorf("%d receives at once, %d buffers provided: the pool did not grow from %d", conns, p, recvBufFirst)
	}
}

// stallOwner holds up the first loop other than the listener's that
// accepts a connection for it, inside that connection's accept completion,
// until release closes, as a loop whose thread gets no CPU would be. It
// counts the accepts each loop completes and closes every connection.
type stallOwner struct {
	lp       atomic.Pointer[uloop] // the listener's loop
	stalled  atomic.Pointer[uloop]
	stall    chan struct{} // closed once a loop is held up
	release  chan struct{}
	seen     atomic.Int64 // accepts completed, the held one included
	byLoop   [2]atomic.Int64
	stallOne sync.Once
}

func (o *stallOwner) Dispatch(ev *Event) {
	if ev.Err != nil || ev.Conn == nil {
		return
	}
	c := ev.Conn.(*uconn)
	o.seen.Add(1)
	o.byLoop[c.l.id].Add(1)
	if c.l != o.lp.Load() {
		o.stallOne.Do(func() {
			o.stalled.Store(c.l)
			close(o.stall)
			<-o.release
		})
	}
	c.Close(nil)
}

func (o *stallOwner) Gather(*Event) [][]byte { return nil }

// waitFor polls cond for up to 10 s and reports whether it came true.
func waitFor(cond func() bool) bool {
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if cond() {
			return true
		}
	}
	return cond()
}

// TestUringHandOffPassesOverStalledLoop: while a loop is held up, the
// accepting loop hands it at most maxHanded connections and serves the
// others itself, so that the held loop does not take a flood of
// connections at once when it runs again; none is lost.
func TestUringHandOffPassesOverStalledLoop(t *testing.T) {
	if err := ProbeUring(); err != nil {
		t.Skipf("io_uring unavailable: %v", err)
	}
	eng, err := NewUring(2)
	if err != nil {
		t.Fatal(err)
	}
	e := eng.(*Uring)
	defer e.Close()
	o := &stallOwner{stall: make(chan struct{}), release: make(chan struct{})}
	ln, err := e.Listen("tcp", "127.0.0.1:0", &Event{Type: Accept, Owner: o})
	if err != nil {
		t.Fatal(err)
	}
	o.lp.Store(ln.(*uringListener).lp)
	defer ln.Close()
	var releaseOnce sync.Once
	release := func() { releaseOnce.Do(func() { close(o.release) }) }
	defer release()
	dialed := int64(0)
	dial := func() {
		nc, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		nc.Close()
		dialed++
	}

	// The loops take connections in turn: one of the first two is handed
	// to the other loop, which it holds up.
	for held := false; !held; {
		dial()
		if !waitFor(func() bool { return o.seen.Load() == dialed }) {
			t.Fatalf("%d connections dialed, %d accepted", dialed, o.seen.Load())
		}
		select {
		case <-o.stall:
			held = true
		default:
		}
	}
	stalled, lp := o.stalled.Load(), o.lp.Load()
	before := o.byLoop[lp.id].Load()
	const n = 4 * maxHanded
	for range n {
		dial()
	}
	if !waitFor(func() bool { return o.byLoop[lp.id].Load()-before >= n-maxHanded }) {
		t.Fatalf("loop %d held up: the accepting loop served %d of %d connections dialed meanwhile, want all but at most %d",
			stalled.id, o.byLoop[lp.id].Load()-before, n, maxHanded)
	}
	if h := stalled.handed.Load(); h > maxHanded {
		t.Errorf("%d connections wait for the held loop, want at most %d", h, maxHanded)
	}
	release()
	if !waitFor(func() bool { return o.seen.Load() == dialed }) {
		t.Fatalf("after the held loop ran again, %d of %d connections accepted", o.seen.Load(), dialed)
	}
}
