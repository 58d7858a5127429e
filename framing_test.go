package servercore

// Packet framing over real loopback connections: splits, coalescing, large
// packets, malformed headers, stalls and resets.

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"servercore/internal/testkit"
)

// TestFramingSplitAtEveryOffset writes a stream of packets in two writes
// split at every offset (with a pause between so the server reads them
// apart), for several receive buffer sizes; the server must hand each packet
// to OnRecvPacket exactly once, whole, in order, and echo it.
func TestFramingSplitAtEveryOffset(t *testing.T) {
	testkit.ForEachBackend(t, func(t *testing.T, backend string) {
		stream, want := framingStream()
		for _, bufSize := range []int{1, 16, 4096} {
			t.Run(fmt.Sprintf("buf%d", bufSize), func(t *testing.T) {
				app := newTestApp()
				app.record = true
				cfg := app.configFor(backend)
				cfg.RecvBufferSize = bufSize
				svc := startServer(t, app, cfg)
				c := testkit.Dial(t, svc.Addr())
				var all []packet
				for k := 0; k <= len(stream); k++ {
					c.MustWrite(stream[:k])
					time.Sleep(time.Millisecond)
					c.MustWrite(stream[k:])
					for _, p := range want {
						c.Expect(p.id, p.payload)
					}
					all = append(all, want...)
				}
				samePackets(t, app.session(t, c).received(), all)
			})
		}
	})
}

// TestFramingByteAtATime writes a stream one byte per write.
func TestFramingByteAtATime(t *testing.T) {
	testkit.ForEachBackend(t, func(t *testing.T, backend string) {
		stream, want := framingStream()
		app := newTestApp()
		app.record = true
		svc := startServer(t, app, app.configFor(backend))
		c := testkit.Dial(t, svc.Addr())
		for i := range stream {
			c.MustWrite(stream[i : i+1])
			if i%8 == 0 {
				time.Sleep(200 * time.Microsecond)
			}
		}
		for _, p := range want {
			c.Expect(p.id, p.payload)
		}
		samePackets(t, app.session(t, c).received(), want)
	})
}

// TestFramingCoalesced writes many packets in one write.
func TestFramingCoalesced(t *testing.T) {
	testkit.ForEachBackend(t, func(t *testing.T, backend string) {
		for _, tt := range []struct {
			name        string
			count, size int
			bufSize     int
		}{
			{"tiny", 500, 0, 0},
			{"small", 300, 60, 0},
			{"buffer-sized", 20, DefaultRecvBufferSize, 0},
			{"grow from 8 bytes", 50, 200, 8},
		} {
			t.Run(tt.name, func(t *testing.T) {
				app := newTestApp()
				app.record = true
				cfg := app.configFor(backend)
				cfg.RecvBufferSize = tt.bufSize
				svc := startServer(t, app, cfg)
				c := testkit.Dial(t, svc.Addr())
				var stream []byte
				var want []packet
				for i := range tt.count {
					p := packet{uint16(i), testkit.Payload(i, tt.size+i%3)}
					want = append(want, p)
					stream = testkit.AppendPacket(stream, p.id, p.payload)
				}
				done := make(chan error, 1)
				go func() { done <- c.TimedWrite(stream) }() // the echo may fill the socket buffers first
				for _, p := range want {
					c.Expect(p.id, p.payload)
				}
				if err := <-done; err != nil {
					t.Fatalf("write: %v", err)
				}
				samePackets(t, app.session(t, c).received(), want)
				if st := svc.Stats(); st.PacketsIn < uint64(tt.count) {
					t.Errorf("Stats().PacketsIn = %d, want >= %d", st.PacketsIn, tt.count)
				}
			})
		}
	})
}

// TestFramingLargePackets echoes packets up to the wire maximum, which makes
// the receive buffer reserve and grow.
func TestFramingLargePackets(t *testing.T) {
	testkit.ForEachBackend(t, func(t *testing.T, backend string) {
		app := newTestApp()
		svc := startServer(t, app, app.configFor(backend))
		c := testkit.Dial(t, svc.Addr())
		for _, n := range []int{MaxPacketSize - HeaderSize, 1, 30000, sendChunkMax, DefaultRecvBufferSize*2 + 1, MaxPacketSize - HeaderSize} {
			p := testkit.Payload(n, n)
			done := make(chan error, 1)
			go func() { done <- c.TimedWrite(testkit.AppendPacket(nil, 7, p)) }()
			c.Expect(7, p)
			if err := <-done; err != nil {
				t.Fatal(err)
			}
		}
		ts := app.session(t, c)
		testkit.WaitFor(t, testkit.WaitLong, "OnSend to report every echoed byte", func() bool {
			return ts.sent.Load() == int64(6*HeaderSize+2*(MaxPacketSize-HeaderSize)+1+30000+sendChunkMax+DefaultRecvBufferSize*2+1)
		})
	})
}

// TestMalformedHeader sends each malformed header (sizes 0..3, and sizes
// above the configured maximum of 1024), alone or after a valid packet in
// the same write. The offender alone must be disconnected with ErrProtocol
// and its socket closed; a healthy session on the same server keeps
// echoing before and after.
func TestMalformedHeader(t *testing.T) {
	testkit.ForEachBackend(t, func(t *testing.T, backend string) {
		app := newTestApp()
		app.record = true
		cfg := app.configFor(backend)
		cfg.MaxPacketSize = 1024
		svc := startServer(t, app, cfg)
		healthy := testkit.Dial(t, svc.Addr())
		healthy.Echo(1, []byte("before"))
		hs := app.session(t, healthy)

		for _, size := range []uint16{0, 1, 2, 3, 1025, 65535} {
			for _, afterValid := range []bool{false, true} {
				t.Run(fmt.Sprintf("size%d/afterValid=%v", size, afterValid), func(t *testing.T) {
					bad := testkit.Dial(t, svc.Addr())
					bad.Echo(2, []byte("hello")) // make sure the session is up
					bs := app.session(t, bad)
					var msg []byte
					if afterValid {
						msg = testkit.AppendPacket(msg, 3, []byte("valid"))
					}
					var h [HeaderSize]byte
					PacketHeader{Size: size, ID: 4}.Put(h[:])
					msg = append(msg, h[:]...)
					bad.MustWrite(msg)
					// The echo of the valid packet may or may not get out:
					// Disconnect drops what was not yet written.
					bad.ExpectClosed(testkit.WaitLong)
					cause := bs.waitDisconnected(t, testkit.WaitLong)
					if !errors.Is(cause, ErrProtocol) {
						t.Fatalf("offender's cause %v, want ErrProtocol", cause)
					}
					want := []packet{{2, []byte("hello")}}
					if afterValid {
						want = append(want, packet{3, []byte("valid")})
					}
					samePackets(t, bs.received(), want)
					healthy.Echo(5, []byte(fmt.Sprintf("after size %d", size)))
					if !hs.s.Connected() {
						t.Fatal("the healthy session was disconnected")
					}
				})
			}
		}
		// The largest allowed packet still passes.
		healthy.Echo(6, make([]byte, 1024-HeaderSize))
	})
}

// TestHalfHeaderStall: a client that sends half a header and stalls is cut
// by the idle timeout; a healthy client keeps echoing meanwhile.
func TestHalfHeaderStall(t *testing.T) {
	testkit.ForEachBackend(t, func(t *testing.T, backend string) {
		app := newTestApp()
		cfg := app.configFor(backend)
		cfg.IdleTimeout = 400 * time.Millisecond
		svc := startServer(t, app, cfg)
		healthy := testkit.Dial(t, svc.Addr())
		healthy.Echo(1, []byte("x"))
		bad := testkit.Dial(t, svc.Addr())
		bad.Echo(1, []byte("y"))
		bs := app.session(t, bad)
		bad.MustWrite([]byte{200, 0})
		for {
			healthy.Echo(2, []byte("ping"))
			select {
			case <-bs.done:
			case <-time.After(50 * time.Millisecond):
				continue
			}
			break
		}
		if cause := bs.waitDisconnected(t, 0); !errors.Is(cause, ErrIdleTimeout) {
			t.Fatalf("stalled client's cause %v, want ErrIdleTimeout", cause)
		}
		bad.ExpectClosed(testkit.WaitLong)
		for range 5 {
			healthy.Echo(3, []byte("pong"))
		}
		if !app.session(t, healthy).s.Connected() {
			t.Fatal("the active client was disconnected")
		}
	})
}

// TestResetMidPacket: a client that resets its connection in the middle of
// a packet is disconnected with ErrPeerClosed wrapping the reset (not a
// protocol error), named once by the engine's operation; a healthy client
// is unaffected.
func TestResetMidPacket(t *testing.T) {
	testkit.ForEachBackend(t, func(t *testing.T, backend string) {
		app := newTestApp()
		svc := startServer(t, app, app.configFor(backend))
		healthy := testkit.Dial(t, svc.Addr())
		healthy.Echo(1, []byte("x"))
		bad := testkit.Dial(t, svc.Addr())
		bad.Echo(1, []byte("y"))
		bs := app.session(t, bad)
		msg := testkit.AppendPacket(nil, 9, make([]byte, 100))
		bad.MustWrite(msg[:14])
		time.Sleep(10 * time.Millisecond)
		if err := bad.Conn.(*net.TCPConn).SetLinger(0); err != nil {
			t.Fatal(err)
		}
		bad.Close()
		cause := bs.waitDisconnected(t, testkit.WaitLong)
		if !errors.Is(cause, ErrPeerClosed) || errors.Is(cause, ErrProtocol) {
			t.Fatalf("cause %v: want ErrPeerClosed, and no protocol error", cause)
		}
		if !testkit.IsReset(cause) {
			t.Errorf("cause %v, want one wrapping a connection reset (%v)", cause, testkit.ResetErrors)
		}
		if msg := cause.Error(); strings.Contains(msg, "recv: recv:") || strings.Contains(msg, "send: send:") {
			t.Errorf("cause %q names its operation twice", msg)
		}
		if bs.packets.Load() != 1 {
			t.Errorf("the partial packet was delivered")
		}
		healthy.Echo(2, bytes.Repeat([]byte("z"), 1000))
	})
}

// TestPeerCloseCause: a clean close by the client ends its session with
// ErrPeerClosed.
func TestPeerCloseCause(t *testing.T) {
	testkit.ForEachBackend(t, func(t *testing.T, backend string) {
		app := newTestApp()
		svc := startServer(t, app, app.configFor(backend))
		c := testkit.Dial(t, svc.Addr())
		c.Echo(1, nil)
		ts := app.session(t, c)
		c.Close()
		if cause := ts.waitDisconnected(t, testkit.WaitLong); !errors.Is(cause, ErrPeerClosed) {
			t.Fatalf("cause %v, want ErrPeerClosed", cause)
		}
	})
}
