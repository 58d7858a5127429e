package servercore

import (
	"runtime"
	"testing"

	"servercore/internal/testkit"
)

// TestRecvMemoryFollowsBytes: a header announcing the largest packet makes
// a session hold memory for the bytes that arrived, not for the size the
// header announces, and the buffer grows as the rest comes.
func TestRecvMemoryFollowsBytes(t *testing.T) {
	recvModes(t, func(t *testing.T, mk func(testing.TB, Config) *harness) {
		app := newTestApp()
		app.record = true
		h := mk(t, app.config())
		s, fc := h.connect()
		pkt := testkit.AppendPacket(nil, 3, testkit.Payload(3, MaxPacketSize-HeaderSize))
		if !feed(s, fc, pkt[:10]) {
			t.Fatal("the session stopped receiving")
		}
		if c := s.recv.Cap(); c > DefaultRecvBufferSize {
			t.Fatalf("receive buffer of %d bytes for 10 received, want at most %d", c, DefaultRecvBufferSize)
		}
		got := 10
		for _, step := range []int{5000, 20000} {
			if !feed(s, fc, pkt[got:got+step]) {
				t.Fatal("the session stopped receiving")
			}
			got += step
			if c := s.recv.Cap(); c > 2*got+DefaultRecvBufferSize {
				t.Fatalf("receive buffer of %d bytes for %d received", c, got)
			}
		}
		if !feed(s, fc, pkt[got:]) {
			t.Fatal("the session stopped receiving")
		}
		if r := s.events.(*testSession).received(); len(r) != 1 || len(r[0].payload) != MaxPacketSize-HeaderSize {
			t.Fatalf("received %v, want the one whole packet", r)
		}
		s.Disconnect(nil)
		finish(t, s, fc)
	})
}

// TestRecvMemoryAnnouncedPackets: many peers that each announce a 64 KiB
// packet and stall cost the server a few KiB each, on every engine.
func TestRecvMemoryAnnouncedPackets(t *testing.T) {
	testkit.ForEachBackend(t, func(t *testing.T, backend string) {
		app := newTestApp()
		svc := startServer(t, app, app.configFor(backend))
		const peers = 300
		heap := func() uint64 {
			runtime.GC()
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			return m.HeapInuse
		}
		before := heap()
		header := testkit.AppendPacket(nil, 1, make([]byte, MaxPacketSize-HeaderSize))[:10]
		for range peers {
			c := testkit.Dial(t, svc.Addr())
			c.MustWrite(header)
		}
		testkit.WaitFor(t, testkit.WaitLong, "every peer's bytes received", func() bool {
			return svc.Stats().BytesIn >= peers*uint64(len(header))
		})
		grown := int64(heap()) - int64(before)
		t.Logf("heap grew by %d bytes for %d stalled peers (%d each)", grown, peers, grown/peers)
		if limit := int64(peers * 16 << 10); grown > limit {
			t.Fatalf("heap grew by %d bytes for %d peers that sent 10 bytes each, more than 16 KiB each", grown, peers)
		}
	})
}
