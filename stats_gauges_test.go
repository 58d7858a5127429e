package servercore

import (
	"testing"
	"unsafe"

	"servercore/internal/testkit"
)

// TestStatsRecvBuffered: the receive memory counted is what the sessions'
// buffers hold, through their allocation, growth and release, whichever
// way the engine receives.
func TestStatsRecvBuffered(t *testing.T) {
	recvModes(t, func(t *testing.T, mk func(testing.TB, Config) *harness) {
		h := mk(t, newTestApp().config())
		held := func() int64 { return h.svc.Stats().RecvBuffered }
		sum := func(ss ...*Session) int64 {
			var n int64
			for _, s := range ss {
				if s.recv != nil {
					n += int64(s.recv.Cap())
				}
			}
			return n
		}
		a, fa := h.connect()
		b, fb := h.connect()
		if got, want := held(), sum(a, b); got != want {
			t.Fatalf("two idle sessions: RecvBuffered %d, want %d", got, want)
		}
		pkt := testkit.AppendPacket(nil, 3, testkit.Payload(3, 40000))
		for _, n := range []int{10, 3000, 20000} { // part of a large packet: the buffer grows
			if !feed(a, fa, pkt[:n]) {
				t.Fatal("the session stopped receiving")
			}
			pkt = pkt[n:]
			if got, want := held(), sum(a, b); got != want || got < int64(n) {
				t.Fatalf("after %d bytes of a packet: RecvBuffered %d, want %d", n, got, want)
			}
		}
		if !feed(a, fa, pkt) {
			t.Fatal("the session stopped receiving")
		}
		if got, want := held(), sum(a, b); got != want {
			t.Fatalf("after the whole packet: RecvBuffered %d, want %d", got, want)
		}
		for _, c := range []struct {
			s  *Session
			fc *fakeConn
		}{{a, fa}, {b, fb}} {
			c.s.Disconnect(nil)
			finish(t, c.s, c.fc)
		}
		if got := held(); got != 0 {
			t.Fatalf("after every session ended: RecvBuffered %d, want 0", got)
		}
	})
}

// TestStatsSendQueued: a reader that stopped reading shows as the largest
// send queue, and its backlog leaves the figures when it is cut.
func TestStatsSendQueued(t *testing.T) {
	testkit.ForEachBackend(t, func(t *testing.T, backend string) {
		app := newTestApp()
		cfg := app.configFor(backend)
		cfg.SendQueueLimit = 64 << 20
		svc := startServer(t, app, cfg)
		app.connect(t, svc) // a reader that keeps up
		c, _ := app.stuckReader(t, svc)
		st := svc.Stats()
		if st.SendQueued == 0 || st.SendQueueMax != st.SendQueued {
			t.Fatalf("with one stuck reader: SendQueued %d, SendQueueMax %d, want equal and above 0", st.SendQueued, st.SendQueueMax)
		}
		c.Close()
		testkit.WaitFor(t, testkit.WaitLong, "the stuck reader's queue dropped", func() bool {
			st := svc.Stats()
			return st.SendQueued == 0 && st.SendQueueMax == 0
		})
	})
}

// TestSessionSize: Session stays in its allocation size class; a field
// more costs every connection the next class up.
func TestSessionSize(t *testing.T) {
	if unsafe.Sizeof(uintptr(0)) != 8 {
		t.Skip("sized for 64-bit platforms")
	}
	if n := unsafe.Sizeof(Session{}); n > 160 {
		t.Fatalf("Session is %d bytes, want at most 160", n)
	}
}
