package servercore

import (
	"errors"
	"net"
	"testing"
	"time"

	"servercore/internal/testkit"
)

// forEachSendInterval runs f with writes at once and with writes held for
// 2 ms send ticks, as the subtests SendInterval=0s and SendInterval=2ms.
func forEachSendInterval(t *testing.T, f func(t *testing.T, interval time.Duration)) {
	t.Helper()
	for _, interval := range []time.Duration{0, 2 * time.Millisecond} {
		t.Run("SendInterval="+interval.String(), func(t *testing.T) { f(t, interval) })
	}
}

// TestSendIntervalHoldsWrites: with Config.SendInterval, what a session
// queues is written only at a send tick, all of it in one write, and a
// session that disconnects while its write is held drops it. The interval
// here is an hour so that the test's own flush calls are the only ticks.
func TestSendIntervalHoldsWrites(t *testing.T) {
	testkit.ForEachBackend(t, func(t *testing.T, backend string) {
		app := newTestApp()
		cfg := app.configFor(backend)
		cfg.SendInterval = time.Hour
		svc := startServer(t, app, cfg)
		c := testkit.Dial(t, svc.Addr())
		ts := app.session(t, c)

		burst := func(first, n int) {
			t.Helper()
			for i := first; i < first+n; i++ {
				if err := ts.s.SendPacket(uint16(i), testkit.Payload(i, 16)); err != nil {
					t.Fatalf("SendPacket %d: %v", i, err)
				}
			}
		}
		expectNothing := func() {
			t.Helper()
			c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
			var ne net.Error
			if n, err := c.Read(make([]byte, 1)); !errors.As(err, &ne) || !ne.Timeout() {
				t.Fatalf("read %d bytes (%v) before the send tick, want a timeout", n, err)
			}
		}
		expectBurst := func(first, n int) {
			t.Helper()
			for i := first; i < first+n; i++ {
				c.Expect(uint16(i), testkit.Payload(i, 16))
			}
		}

		burst(0, 100)
		expectNothing()
		svc.held.flush()
		expectBurst(0, 100)
		testkit.WaitFor(t, testkit.WaitLong, "the write's completion", func() bool { return ts.writes.Load() == 1 })

		burst(100, 10)
		expectNothing()
		svc.held.flush()
		expectBurst(100, 10)
		testkit.WaitFor(t, testkit.WaitLong, "the second write's completion", func() bool { return ts.writes.Load() == 2 })

		// Held, then disconnected before the tick: nothing is written.
		burst(110, 5)
		cause := errors.New("leaving")
		ts.s.Disconnect(cause)
		if got := ts.waitDisconnected(t, testkit.WaitLong); got != cause {
			t.Fatalf("OnDisconnected(%v), want %v", got, cause)
		}
		svc.held.flush()
		c.SetReadDeadline(time.Now().Add(testkit.WaitLong))
		if n, err := c.Read(make([]byte, 1)); n != 0 || err == nil {
			t.Fatalf("read %d bytes (%v) after a disconnect with the write held, want the close alone", n, err)
		}
		if got := ts.writes.Load(); got != 2 {
			t.Errorf("%d writes, want 2", got)
		}
		svc.held.mu.Lock()
		if n := len(svc.held.sessions); n != 0 {
			t.Errorf("%d sessions still held after the flush", n)
		}
		svc.held.mu.Unlock()
	})
}

// TestSendIntervalTicks runs an echo server whose writes wait for send ticks
// with clients of the same kind: the service's own ticks write every
// packet back, fewer writes than packets carrying them.
func TestSendIntervalTicks(t *testing.T) {
	testkit.ForEachBackend(t, func(t *testing.T, backend string) {
		const n, count = 8, 50
		srv := newTestApp()
		cfg := srv.configFor(backend)
		cfg.SendInterval = 5 * time.Millisecond
		svc := startServer(t, srv, cfg)
		capp := newTestApp()
		ccfg := capp.configFor(backend)
		ccfg.SendInterval = 5 * time.Millisecond
		startClient(t, capp, ccfg, svc.Addr().String(), n)
		sendAndAwait(t, capp, count, 8, count)
		for _, ts := range srv.all() {
			if w := ts.writes.Load(); w >= count {
				t.Errorf("server session %d: %d writes for %d packets", ts.id, w, count)
			}
		}
	})
}
