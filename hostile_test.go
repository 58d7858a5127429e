package servercore

import (
	"bytes"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"servercore/internal/testkit"
)

// TestHostilePeersLeaveHealthyAlone runs healthy echo clients while peers
// that reset mid-packet, trickle packets and never read come and go: every
// healthy echo comes back intact, the hostile ones are cut with their
// causes, the heap stays bounded, and nothing leaks after Stop.
func TestHostilePeersLeaveHealthyAlone(t *testing.T) {
	testkit.ForEachBackend(t, func(t *testing.T, backend string) {
		check := testkit.LeakCheck(t)
		app := newTestApp()
		cfg := app.configFor(backend)
		cfg.PacketTimeout = 200 * time.Millisecond
		cfg.SendQueueLimit = 256 << 10
		svc := startServer(t, app, cfg)
		heap := func() uint64 {
			runtime.GC()
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			return m.HeapInuse
		}
		before := heap()
		const run = 1500 * time.Millisecond
		deadline := time.Now().Add(run)
		var wg sync.WaitGroup
		var echoes, resets, trickles, floods atomic.Int64

		var healthy []*testkit.Client
		for i := range 8 { // healthy: echo, check, repeat
			c := testkit.Dial(t, svc.Addr())
			healthy = append(healthy, c)
			wg.Go(func() {
				for n := 0; time.Now().Before(deadline); n++ {
					c.Echo(uint16(n), testkit.Payload(i*1000+n, 200))
					echoes.Add(1)
				}
			})
		}
		dial := func() net.Conn {
			c, err := net.DialTimeout("tcp", svc.Addr().String(), testkit.WaitShort)
			if err != nil {
				return nil
			}
			return c
		}
		for range 4 { // resetters: half a packet, then a reset
			wg.Go(func() {
				for time.Now().Before(deadline) {
					c := dial()
					if c == nil {
						continue
					}
					c.Write(testkit.AppendPacket(nil, 1, make([]byte, 500))[:200])
					c.(*net.TCPConn).SetLinger(0)
					c.Close()
					resets.Add(1)
					time.Sleep(5 * time.Millisecond)
				}
			})
		}
		for range 20 { // tricklers: a byte every 30 ms of a 60 KB packet
			wg.Go(func() {
				c := dial()
				if c == nil {
					return
				}
				defer c.Close()
				pkt := testkit.AppendPacket(nil, 1, make([]byte, 60000))
				for i := 0; time.Now().Before(deadline); i++ {
					c.SetWriteDeadline(time.Now().Add(time.Second))
					if _, err := c.Write(pkt[i : i+1]); err != nil {
						trickles.Add(1) // cut
						return
					}
					time.Sleep(30 * time.Millisecond)
				}
			})
		}
		for range 4 { // floods that never read their echoes
			wg.Go(func() {
				c := dial()
				if c == nil {
					return
				}
				defer c.Close()
				c.(*net.TCPConn).SetReadBuffer(4096)
				batch := bytes.Repeat(testkit.AppendPacket(nil, 1, make([]byte, 1000)), 16)
				// Until cut, however long a loaded machine takes to fill
				// the queue, not only for the run.
				for stop := time.Now().Add(testkit.WaitLong); time.Now().Before(stop); {
					c.SetWriteDeadline(time.Now().Add(time.Second))
					if _, err := c.Write(batch); err != nil {
						floods.Add(1) // cut
						return
					}
				}
			})
		}
		peak := uint64(0)
		for time.Now().Before(deadline) {
			time.Sleep(100 * time.Millisecond)
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			peak = max(peak, m.HeapInuse)
		}
		wg.Wait()
		// Every hostile session that was accepted ends, with a cause; only
		// the healthy ones stay. (A peer that resets before the accept may
		// never become a session: Wine drops such connections.)
		ended := func(d DisconnectCounts) (sum uint64) {
			for _, n := range d.All() {
				sum += n
			}
			return sum
		}
		testkit.WaitFor(t, testkit.WaitLong, "every hostile session ended", func() bool {
			st := svc.Stats()
			return ended(st.Disconnects) == st.Accepted-uint64(len(healthy))
		})
		d := svc.Stats().Disconnects
		t.Logf("%d healthy echoes; %d resets, %d tricklers cut, %d floods cut; heap %d KiB before, peak %d KiB; disconnects %+v",
			echoes.Load(), resets.Load(), trickles.Load(), floods.Load(), before>>10, peak>>10, d)
		if echoes.Load() == 0 {
			t.Fatal("no healthy echo completed")
		}
		if d.PacketTimeout < 20 {
			t.Errorf("%d sessions cut by the packet deadline, want every trickler's (20)", d.PacketTimeout)
		}
		if d.SendQueueFull == 0 {
			t.Errorf("no flood cut for not reading")
		}
		if d.Other != 0 || d.Protocol != 0 {
			t.Errorf("sessions ended by unexpected causes: %+v", d)
		}
		if peak > before+64<<20 {
			t.Errorf("heap peaked at %d MiB over %d MiB before", peak>>20, before>>20)
		}
		stopService(t, svc)
		app.check(t, true)
		for _, c := range healthy {
			c.Close()
		}
		check()
	})
}
