package servercore

import (
	"errors"
	"net"
	"testing"
	"time"

	"servercore/internal/testkit"
)

// TestPacketTimeoutTrickle: a packet trickled a byte at a time keeps the
// idle clock fresh but is cut by the packet deadline, with
// ErrPacketTimeout; a healthy client streaming packets all the while, its
// reads often ending mid-packet, is never cut.
func TestPacketTimeoutTrickle(t *testing.T) {
	testkit.ForEachBackend(t, func(t *testing.T, backend string) {
		app := newTestApp()
		cfg := app.configFor(backend)
		cfg.PacketTimeout = 300 * time.Millisecond
		cfg.IdleTimeout = time.Minute
		svc := startServer(t, app, cfg)
		healthy := testkit.Dial(t, svc.Addr())
		healthy.Echo(1, nil)
		bad := testkit.Dial(t, svc.Addr())
		bad.Echo(1, nil)
		bs := app.session(t, bad)
		pkt := testkit.AppendPacket(nil, 2, make([]byte, 100))
		// The healthy client streams packets so that every write, and so
		// every read of its session, ends inside a packet: the rest of one
		// and the start of the next.
		next := testkit.AppendPacket(nil, 3, testkit.Payload(0, 3000))
		healthy.MustWrite(next[:1500])
		for i := 0; i < len(pkt) && !bs.closed(); i++ {
			bad.TimedWrite(pkt[i : i+1]) // fails once the server cut it
			cur := next
			next = testkit.AppendPacket(nil, 3, testkit.Payload(i+1, 3000))
			healthy.MustWrite(append(cur[1500:len(cur):len(cur)], next[:1500]...))
			healthy.Expect(3, testkit.Payload(i, 3000))
			time.Sleep(20 * time.Millisecond)
		}
		cause := bs.waitDisconnected(t, testkit.WaitLong)
		if !errors.Is(cause, ErrPacketTimeout) {
			t.Fatalf("trickling client's cause %v, want ErrPacketTimeout", cause)
		}
		healthy.MustWrite(next[1500:])
		healthy.Expect(3, next[4:])
		healthy.Echo(4, []byte("still here"))
		if got := svc.Stats().Disconnects.PacketTimeout; got != 1 {
			t.Errorf("Disconnects.PacketTimeout = %d, want 1", got)
		}
	})
}

// TestPacketTimeoutForeignProtocol: an HTTP request sent to the game port
// reads as a header announcing a packet that never completes; it is cut by
// the packet deadline, not left for the idle timeout.
func TestPacketTimeoutForeignProtocol(t *testing.T) {
	testkit.ForEachBackend(t, func(t *testing.T, backend string) {
		app := newTestApp()
		cfg := app.configFor(backend)
		cfg.PacketTimeout = 200 * time.Millisecond
		cfg.IdleTimeout = time.Hour
		svc := startServer(t, app, cfg)
		c := testkit.Dial(t, svc.Addr())
		c.MustWrite([]byte("GET / HTTP/1.1\r\nHost: game\r\n\r\n"))
		c.ExpectClosed(testkit.WaitLong)
		testkit.WaitFor(t, testkit.WaitLong, "the cut counted", func() bool { return svc.Stats().Disconnects.PacketTimeout == 1 })
	})
}

// TestSendQueueMaxAge: a peer that stopped reading is cut once its oldest
// unsent byte is older than the limit, long before its queue fills, while a
// reader keeping up is not.
func TestSendQueueMaxAge(t *testing.T) {
	testkit.ForEachBackend(t, func(t *testing.T, backend string) {
		app := newTestApp()
		cfg := app.configFor(backend)
		cfg.SendQueueMaxAge = 300 * time.Millisecond
		cfg.SendQueueLimit = 256 << 20
		svc := startServer(t, app, cfg)
		healthy := testkit.Dial(t, svc.Addr())
		healthy.Echo(1, nil)
		hs := app.session(t, healthy)
		stuck := testkit.Dial(t, svc.Addr())
		stuck.Conn.(*net.TCPConn).SetReadBuffer(4096)
		stuck.Echo(1, nil)
		ss := app.session(t, stuck)
		state := make([]byte, 8000)
		for i := 0; !ss.closed(); i++ {
			if i > 20000 {
				t.Fatalf("the stuck reader was never cut")
			}
			// Game-rate state updates to both.
			ss.s.SendPacket(5, state)
			if err := hs.s.SendPacket(5, state); err != nil {
				t.Fatalf("the healthy reader's send: %v", err)
			}
			healthy.Expect(5, state)
			time.Sleep(time.Millisecond)
		}
		cause := ss.waitDisconnected(t, 0)
		if !errors.Is(cause, ErrSendQueueFull) {
			t.Fatalf("stuck reader's cause %v, want ErrSendQueueFull", cause)
		}
		healthy.Echo(2, []byte("still here"))
	})
}
