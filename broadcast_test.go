package servercore

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"servercore/internal/testkit"
)

// broadcastApp sends every packet it receives to every connected session,
// the sender included: one NewPacket, Service.Broadcast, Release.
func broadcastApp() *testApp {
	app := newTestApp()
	app.onPacket = func(ts *testSession, id uint16, payload []byte) {
		b := NewPacket(id, payload)
		ts.s.Service().Broadcast(b)
		b.Release()
	}
	return app
}

// TestBroadcastEveryClientGetsEverything: N clients each send M packets to
// a broadcast server; every client receives all N*M packets, whole, and in
// each sender's order, whether writes go at once or wait for send ticks.
func TestBroadcastEveryClientGetsEverything(t *testing.T) {
	testkit.ForEachBackend(t, func(t *testing.T, backend string) {
		forEachSendInterval(t, func(t *testing.T, interval time.Duration) {
			testBroadcastEverything(t, backend, interval)
		})
	})
}

func testBroadcastEverything(t *testing.T, backend string, interval time.Duration) {
	const clients, perClient = 50, 20
	app := broadcastApp()
	cfg := app.configFor(backend)
	cfg.SendInterval = interval
	svc := startServer(t, app, cfg)
	cs := make([]*testkit.Client, clients)
	for i := range cs {
		cs[i] = testkit.Dial(t, svc.Addr())
	}
	testkit.WaitFor(t, testkit.WaitLong, "every client to be connected", func() bool { return app.connected.Load() == clients })

	// payload: sender u16, seq u32, then filler derived from both.
	mk := func(sender, seq int) []byte {
		p := binary.LittleEndian.AppendUint16(nil, uint16(sender))
		p = binary.LittleEndian.AppendUint32(p, uint32(seq))
		return append(p, testkit.Payload(sender*1000+seq, seq%50)...)
	}
	errs := make(chan error, 2*clients)
	var wg sync.WaitGroup
	for i, c := range cs {
		wg.Add(2)
		go func() { // reader
			defer wg.Done()
			next := make([]int, clients)
			buf := make([]byte, 0, 256)
			for range clients * perClient {
				id, p, err := c.ReadPacket(testkit.WaitLong, buf)
				if err != nil {
					errs <- fmt.Errorf("client %d: read after %v: %w", i, next, err)
					return
				}
				if len(p) < 6 {
					errs <- fmt.Errorf("client %d: short payload %d", i, len(p))
					return
				}
				sender, seq := int(binary.LittleEndian.Uint16(p)), int(binary.LittleEndian.Uint32(p[2:]))
				if sender >= clients || id != uint16(sender) {
					errs <- fmt.Errorf("client %d: packet id %d from sender %d", i, id, sender)
					return
				}
				if seq != next[sender] {
					errs <- fmt.Errorf("client %d: from sender %d got seq %d, want %d (lost, duplicated or reordered)", i, sender, seq, next[sender])
					return
				}
				if string(p) != string(mk(sender, seq)) {
					errs <- fmt.Errorf("client %d: packet %d/%d corrupted", i, sender, seq)
					return
				}
				next[sender]++
			}
			// Nothing more may arrive.
			c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
			if n, _ := c.Read(make([]byte, 1)); n > 0 {
				errs <- fmt.Errorf("client %d: more than %d packets", i, clients*perClient)
			}
		}()
		go func() { // writer: the packets in a few writes
			defer wg.Done()
			var msg []byte
			for seq := range perClient {
				msg = testkit.AppendPacket(msg, uint16(i), mk(i, seq))
				if seq%7 == 6 || seq == perClient-1 {
					if err := c.TimedWrite(msg); err != nil {
						errs <- fmt.Errorf("client %d: write: %w", i, err)
						return
					}
					msg = msg[:0]
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if st := svc.Stats(); st.PacketsIn != clients*perClient {
		t.Errorf("Stats().PacketsIn = %d, want %d", st.PacketsIn, clients*perClient)
	}
}

// TestBroadcastBufferShared broadcasts one SendBuffer to many sessions over
// real connections: each send holds a reference to the one buffer, and it
// is back to the caller's single reference once every write completed.
func TestBroadcastBufferShared(t *testing.T) {
	testkit.ForEachBackend(t, func(t *testing.T, backend string) {
		for _, kind := range []string{"Service", "Group"} {
			t.Run(kind, func(t *testing.T) {
				const clients = 20
				app := newTestApp()
				g := NewGroup()
				app.onConnected = func(ts *testSession) { g.Add(ts.s) }
				app.onDisconnected = func(ts *testSession, _ error) { g.Remove(ts.s) }
				svc := startServer(t, app, app.configFor(backend))
				cs := make([]*testkit.Client, clients)
				for i := range cs {
					cs[i] = testkit.Dial(t, svc.Addr())
				}
				testkit.WaitFor(t, testkit.WaitLong, "every client to be connected", func() bool { return g.Len() == clients })

				payload := testkit.Payload(1, 3000)
				for round := range 3 {
					b := NewPacket(uint16(round), payload)
					var n int
					if kind == "Service" {
						n = svc.Broadcast(b)
					} else {
						n = g.Broadcast(b)
					}
					if n != clients {
						t.Fatalf("Broadcast queued on %d sessions, want %d", n, clients)
					}
					if r := b.refs.Load(); r < 1 || r > clients+1 {
						t.Fatalf("refs %d after broadcasting to %d sessions", r, clients)
					}
					for _, c := range cs {
						c.Expect(uint16(round), payload)
					}
					testkit.WaitFor(t, testkit.WaitLong, "the buffer to be back to one reference", func() bool { return b.refs.Load() == 1 })
					b.Release()
				}
				// Members that leave are skipped, and removed by their handler.
				cs[0].Close()
				testkit.WaitFor(t, testkit.WaitLong, "the closed client to leave the group", func() bool { return g.Len() == clients-1 })
				b := NewPacket(7, nil)
				if kind == "Service" {
					testkit.WaitFor(t, testkit.WaitLong, "the session to be released", func() bool { return svc.Stats().Sessions == clients-1 })
					if n := svc.Broadcast(b); n != clients-1 {
						t.Fatalf("Broadcast queued %d, want %d", n, clients-1)
					}
				} else if n := g.Broadcast(b); n != clients-1 {
					t.Fatalf("Broadcast queued %d, want %d", n, clients-1)
				}
				for _, c := range cs[1:] {
					c.Expect(7, nil)
				}
				testkit.WaitFor(t, testkit.WaitLong, "the buffer to be back to one reference", func() bool { return b.refs.Load() == 1 })
				b.Release()
			})
		}
	})
}

// TestGroupBroadcastWhileMembersLeave broadcasts to a group from many
// goroutines while members disconnect and remove themselves from their
// OnDisconnected (the original erased from the set it was iterating).
func TestGroupBroadcastWhileMembersLeave(t *testing.T) {
	testkit.ForEachBackend(t, func(t *testing.T, backend string) {
		const clients = 20
		app := newTestApp()
		g := NewGroup()
		app.onConnected = func(ts *testSession) { g.Add(ts.s) }
		app.onDisconnected = func(ts *testSession, _ error) { g.Remove(ts.s) }
		svc := startServer(t, app, app.configFor(backend))
		cs := make([]*testkit.Client, clients)
		for i := range cs {
			cs[i] = testkit.Dial(t, svc.Addr())
			go io.Copy(io.Discard, cs[i])
		}
		testkit.WaitFor(t, testkit.WaitLong, "every client to be connected", func() bool { return g.Len() == clients })
		stop := make(chan struct{})
		var wg sync.WaitGroup
		halt := sync.OnceFunc(func() { close(stop); wg.Wait() })
		defer halt() // also when the test fails: the broadcasters must not outlive it
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					select {
					case <-stop:
						return
					default:
					}
					b := NewPacket(1, []byte("tick"))
					g.Broadcast(b)
					b.Release()
				}
			}()
		}
		// Every other session is ended by the server, the rest by their
		// client: the client of that session (sessions connect in any order).
		byAddr := make(map[string]*testkit.Client)
		for _, c := range cs {
			byAddr[c.LocalAddr().String()] = c
		}
		for i, ts := range app.all() {
			if i%2 == 0 {
				ts.s.Disconnect(nil)
			} else {
				byAddr[ts.s.RemoteAddr().String()].Close()
			}
			time.Sleep(time.Millisecond)
		}
		if !testkit.WaitUntil(testkit.WaitLong, func() bool { return g.Len() == 0 }) {
			t.Fatalf("after %v, %d members have not left; sessions left: %s", testkit.WaitLong, g.Len(), dumpSessions(svc))
		}
		halt()
		b := NewPacket(1, nil)
		if n := g.Broadcast(b); n != 0 {
			t.Fatalf("Broadcast to an empty group queued %d", n)
		}
		b.Release()
	})
}

// TestSendQueueLimitCutsSlowReader: a client that never reads is cut off
// once the server's queue for it exceeds SendQueueLimit, with
// ErrSendQueueFull; a healthy client keeps flowing meanwhile and after,
// whether writes go at once or wait for send ticks.
func TestSendQueueLimitCutsSlowReader(t *testing.T) {
	testkit.ForEachBackend(t, func(t *testing.T, backend string) {
		forEachSendInterval(t, func(t *testing.T, interval time.Duration) {
			testSlowReaderCut(t, backend, interval)
		})
	})
}

func testSlowReaderCut(t *testing.T, backend string, interval time.Duration) {
	const pushID = 100
	app := newTestApp()
	chunk := testkit.Payload(1, 4096)
	app.onPacket = func(ts *testSession, id uint16, payload []byte) {
		if id != pushID {
			ts.s.SendPacket(id, payload)
			return
		}
		for range 16 {
			if err := ts.s.SendPacket(id, chunk); err != nil {
				ts.mu.Lock()
				if ts.user == nil {
					ts.user = err
				}
				ts.mu.Unlock()
				return
			}
		}
	}
	cfg := app.configFor(backend)
	cfg.SendQueueLimit = 256 << 10
	cfg.SendInterval = interval
	svc := startServer(t, app, cfg)
	healthy := testkit.Dial(t, svc.Addr())
	healthy.Echo(1, []byte("hi"))
	slow := testkit.Dial(t, svc.Addr())
	slow.Echo(1, []byte("hi"))
	// A modest receive buffer (not below the loopback MSS, which stalls TCP
	// in zero-window probing) so the server's queue builds up sooner.
	slow.Conn.(*net.TCPConn).SetReadBuffer(128 << 10)
	ss := app.session(t, slow)

	push := testkit.AppendPacket(nil, pushID, nil)
	pushed := 0
	for !ss.closed() && pushed < 5000 {
		if err := slow.TimedWrite(push); err != nil {
			break // the server cut us off
		}
		pushed++
		if pushed%3 == 0 {
			healthy.Echo(2, testkit.Payload(pushed, 100))
			healthy.Send(pushID, nil) // the same push, read: never cut
			for range 16 {
				healthy.Expect(pushID, chunk)
			}
		}
	}
	cause := ss.waitDisconnected(t, testkit.WaitLong)
	t.Logf("the slow reader was cut after %d pushes of 64 KiB", pushed)
	if !errors.Is(cause, ErrSendQueueFull) {
		t.Fatalf("after %d pushes (%d MiB) the slow reader's cause is %v, want ErrSendQueueFull", pushed, pushed*16*4100>>20, cause)
	}
	ss.mu.Lock()
	sendErr, _ := ss.user.(error)
	ss.mu.Unlock()
	if !errors.Is(sendErr, ErrSendQueueFull) {
		t.Errorf("the Send that exceeded the limit returned %v, want ErrSendQueueFull", sendErr)
	}
	for i := range 20 {
		healthy.Echo(3, testkit.Payload(i, 2000))
	}
	slow.ExpectClosed(testkit.WaitLong)
}

// closed reports whether OnDisconnected ran.
func (ts *testSession) closed() bool {
	select {
	case <-ts.done:
		return true
	default:
		return false
	}
}
