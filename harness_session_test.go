package servercore

// Session logic through the fake connection: exact read splits, partial
// writes, buffer sharing and the send-queue accounting, deterministically.

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"servercore/internal/testkit"
)

// framingStream is a few packets of assorted sizes, one empty.
func framingStream() ([]byte, []packet) {
	want := []packet{
		{1, []byte("first")},
		{2, nil},
		{0xFFFF, testkit.Payload(3, 37)},
		{4, []byte("x")},
		{5, testkit.Payload(5, 40)},
	}
	var stream []byte
	for _, p := range want {
		stream = testkit.AppendPacket(stream, p.id, p.payload)
	}
	return stream, want
}

func samePackets(t testing.TB, got, want []packet) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d packets %v, want %d %v", len(got), got, len(want), want)
	}
	for i := range got {
		if got[i].id != want[i].id || !bytes.Equal(got[i].payload, want[i].payload) {
			t.Fatalf("packet %d is %v %.20q, want %v %.20q", i, got[i], got[i].payload, want[i], want[i].payload)
		}
	}
}

// TestHarnessFramingEverySplit cuts a stream of packets into three reads at
// every pair of offsets, and into single bytes, for several receive buffer
// sizes: every packet arrives once, whole, in order (the original handed
// the first packet of a batch to the handler N times).
func TestHarnessFramingEverySplit(t *testing.T) {
	recvModes(t, func(t *testing.T, mk func(testing.TB, Config) *harness) {
		stream, want := framingStream()
		// Every pair of cuts for the tiny buffers, which must compact and
		// grow around every boundary; every third pair for the others.
		for _, tt := range []struct{ bufSize, step int }{{1, 1}, {5, 1}, {64, 3}, {4096, 3}} {
			bufSize := tt.bufSize
			t.Run(fmt.Sprintf("buf%d", bufSize), func(t *testing.T) {
				run := func(t *testing.T, cuts ...int) {
					app := newTestApp()
					app.record = true
					app.onPacket = func(*testSession, uint16, []byte) {}
					cfg := app.config()
					cfg.RecvBufferSize = bufSize
					h := mk(t, cfg)
					s, fc := h.connect()
					prev := 0
					for _, c := range append(cuts, len(stream)) {
						if !feed(s, fc, stream[prev:c]) {
							t.Fatalf("session stopped receiving at %d (cuts %v)", prev, cuts)
						}
						prev = c
					}
					samePackets(t, s.events.(*testSession).received(), want)
					if fc.isClosed() {
						t.Fatalf("session closed on a valid stream (cuts %v)", cuts)
					}
					app.check(t, false)
				}
				for i := 0; i <= len(stream); i += tt.step {
					for j := i; j <= len(stream); j += tt.step {
						run(t, i, j)
					}
				}
				every := make([]int, len(stream))
				for i := range every {
					every[i] = i
				}
				run(t, every...)
			})
		}
	})
}

// TestHarnessRawPartialConsume: a raw handler that consumes only whole
// lines gets the rest again, after more bytes, whatever the splits.
func TestHarnessRawPartialConsume(t *testing.T) {
	recvModes(t, func(t *testing.T, mk func(testing.TB, Config) *harness) {
		stream := []byte("alpha\nbe\n\ngamma delta\nepsilon-zeta-eta-theta\nx\n")
		for i := 0; i <= len(stream); i++ {
			for j := i; j <= len(stream); j += 3 {
				var got []byte
				var calls int
				h := mk(t, Config{RecvBufferSize: 8, MaxPacketSize: 64, NewSession: func() Handler {
					return &rawHandler{cause: make(chan error, 1), onRecv: func(s *Session, data []byte) int {
						calls++
						k := bytes.LastIndexByte(data, '\n') + 1
						got = append(got, data[:k]...)
						return k
					}}
				}})
				s, fc := h.connect()
				for _, part := range [][]byte{stream[:i], stream[i:j], stream[j:]} {
					if !feed(s, fc, part) {
						t.Fatalf("cuts %d %d: session stopped receiving", i, j)
					}
				}
				if !bytes.Equal(got, stream) {
					t.Fatalf("cuts %d %d: consumed %q, want %q", i, j, got, stream)
				}
				s.Disconnect(nil)
				finish(t, s, fc)
			}
		}
	})
}

// TestHarnessRawOverflow: a raw handler that never consumes is cut with
// ErrRecvOverflow once the buffer limit is reached, not grown forever.
func TestHarnessRawOverflow(t *testing.T) {
	recvModes(t, func(t *testing.T, mk func(testing.TB, Config) *harness) {
		for _, ret := range []int{0, -1, 1 << 20} {
			causes := make(chan error, 1)
			h := mk(t, Config{RecvBufferSize: 16, MaxPacketSize: 16, NewSession: func() Handler {
				return &rawHandler{cause: causes, onRecv: func(_ *Session, data []byte) int {
					if ret > 0 {
						return len(data) + 1
					}
					return ret
				}}
			}})
			s, fc := h.connect()
			feed(s, fc, make([]byte, 10000))
			held := 0 // the receive buffer's capacity when the session gave up
			if s.recv != nil {
				held = s.recv.Cap()
			}
			if !fc.isClosed() {
				t.Fatalf("OnRecv returning %d: session not closed; buffer cap %d", ret, held)
			}
			if held > 16+16 {
				t.Fatalf("receive buffer grew to %d, above its 32-byte limit", held)
			}
			finish(t, s, fc)
			if cause := testkit.Recv(t, causes, testkit.WaitShort, "OnDisconnected"); !errors.Is(cause, ErrRecvOverflow) {
				t.Fatalf("OnRecv returning %d: cause %v, want ErrRecvOverflow", ret, cause)
			}
			if s.recv != nil {
				t.Fatalf("receive buffer of %d bytes kept after OnDisconnected", s.recv.Cap())
			}
		}
	})
}

// TestHarnessDisconnectInHandlerStopsDelivery: packets of a batch after the
// handler disconnects are not delivered.
func TestHarnessDisconnectInHandlerStopsDelivery(t *testing.T) {
	recvModes(t, func(t *testing.T, mk func(testing.TB, Config) *harness) {
		app := newTestApp()
		app.record = true
		app.onPacket = func(ts *testSession, id uint16, _ []byte) {
			if id == 3 {
				ts.s.Disconnect(nil)
			}
		}
		h := mk(t, app.config())
		s, fc := h.connect()
		var stream []byte
		for i := range 10 {
			stream = testkit.AppendPacket(stream, uint16(i), []byte("p"))
		}
		feed(s, fc, stream)
		if got := len(s.events.(*testSession).received()); got != 4 {
			t.Fatalf("%d packets delivered, want 4 (ids 0..3, then Disconnect)", got)
		}
		finish(t, s, fc)
		if cause := s.events.(*testSession).waitDisconnected(t, testkit.WaitShort); !errors.Is(cause, ErrDisconnected) {
			t.Fatalf("cause %v, want ErrDisconnected for Disconnect(nil)", cause)
		}
		app.check(t, true)
	})
}

// TestHarnessPartialWrites completes gathered writes a few bytes at a time:
// the session must resume exactly where each write stopped, keep queued
// buffers in order, release each buffer once and report OnSend per round.
func TestHarnessPartialWrites(t *testing.T) {
	app := newTestApp()
	h := newHarness(t, app.config())
	s, fc := h.connect()
	ts := s.events.(*testSession)

	var bufs []*SendBuffer
	var want []byte
	for i, n := range []int{10, 1, 300, 4, 60000 - HeaderSize} {
		b := NewPacket(uint16(i), testkit.Payload(i, n))
		bufs = append(bufs, b)
		want = append(want, b.Bytes()...)
		if err := s.Send(b); err != nil {
			t.Fatalf("Send %d: %v", i, err)
		}
	}
	for i, b := range bufs {
		if got := b.refs.Load(); got != 2 {
			t.Fatalf("buffer %d refs %d while queued, want 2 (caller + session)", i, got)
		}
	}
	var got []byte
	for step := 1; len(got) < len(want); step = step*3 + 1 {
		got = append(got, completeSend(t, s, fc, step, nil)...)
		if len(got) > len(want) {
			t.Fatalf("wrote %d bytes, more than the %d queued", len(got), len(want))
		}
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("the bytes written across partial writes differ from the queued buffers")
	}
	if ts.sent.Load() != int64(len(want)) {
		t.Fatalf("OnSend total %d, want %d", ts.sent.Load(), len(want))
	}
	for i, b := range bufs {
		if got := b.refs.Load(); got != 1 {
			t.Fatalf("buffer %d refs %d after its write, want 1 (the caller's)", i, got)
		}
		b.Release()
	}
	if queuedBytes(s) != 0 {
		t.Fatalf("queued %d after everything was written", queuedBytes(s))
	}
	s.Disconnect(nil)
	finish(t, s, fc)
	app.check(t, true)
}

// TestHarnessBroadcastShares: a broadcast queues the very same bytes on every
// session (no copy), holds one reference per session, and gives them back as
// each write completes.
func TestHarnessBroadcastShares(t *testing.T) {
	for _, kind := range []string{"Service", "Group"} {
		t.Run(kind, func(t *testing.T) {
			app := newTestApp()
			h := newHarness(t, app.config())
			g := NewGroup()
			const n = 5
			var ss []*Session
			var fcs []*fakeConn
			for range n {
				s, fc := h.connect()
				ss, fcs = append(ss, s), append(fcs, fc)
				g.Add(s)
			}
			b := NewPacket(9, testkit.Payload(9, 100))
			var queued int
			if kind == "Service" {
				queued = h.svc.Broadcast(b)
			} else {
				queued = g.Broadcast(b)
			}
			if queued != n {
				t.Fatalf("Broadcast queued %d, want %d", queued, n)
			}
			if got := b.refs.Load(); got != n+1 {
				t.Fatalf("refs %d after broadcasting to %d, want %d", got, n, n+1)
			}
			evs := make([]*sentEv, n)
			for i, fc := range fcs {
				ev := fc.takeSend()
				if ev == nil || len(ev.Bufs) != 1 || &ev.Bufs[0][0] != &b.Bytes()[0] || len(ev.Bufs[0]) != b.Len() {
					t.Fatalf("session %d does not write the broadcast buffer's own bytes", i)
				}
				evs[i] = ev
			}
			for i := range ss {
				completeSendEv(ss[i], evs[i], -1, nil)
				if got, want := b.refs.Load(), int32(n-i); got != want {
					t.Fatalf("refs %d after %d writes completed, want %d", got, i+1, want)
				}
			}
			b.Release()
			// A disconnected member is skipped.
			ss[0].Disconnect(nil)
			b = NewPacket(1, nil)
			if kind == "Service" {
				queued = h.svc.Broadcast(b)
			} else {
				queued = g.Broadcast(b)
			}
			if queued != n-1 {
				t.Fatalf("Broadcast with one member disconnecting queued %d, want %d", queued, n-1)
			}
			for i := range ss {
				ss[i].Disconnect(nil)
				finish(t, ss[i], fcs[i])
			}
			if got := b.refs.Load(); got != 1 {
				t.Fatalf("refs %d after every session closed with the buffer unsent, want 1", got)
			}
			b.Release()
			app.check(t, true)
		})
	}
}

// TestHarnessSendQueueLimit: bytes queued or in flight count against the
// limit; the Send that would exceed it fails with ErrSendQueueFull and
// disconnects the session with that cause; completed writes free room.
func TestHarnessSendQueueLimit(t *testing.T) {
	app := newTestApp()
	cfg := app.config()
	cfg.SendQueueLimit = 100
	h := newHarness(t, cfg)
	s, fc := h.connect()
	ts := s.events.(*testSession)
	p40 := make([]byte, 40-HeaderSize)
	if err := s.SendPacket(1, p40); err != nil {
		t.Fatalf("Send within the limit: %v", err)
	}
	completeSend(t, s, fc, -1, nil) // written: the room is free again
	for i := range 2 {
		if err := s.SendPacket(1, p40); err != nil {
			t.Fatalf("Send %d within the limit after a write freed room: %v", i, err)
		}
	}
	if queuedBytes(s) != 80 {
		t.Fatalf("queued %d, want 80", queuedBytes(s))
	}
	if err := s.SendPacket(1, p40); !errors.Is(err, ErrSendQueueFull) {
		t.Fatalf("Send beyond the limit (80 + 40 > 100): %v, want ErrSendQueueFull", err)
	}
	if s.Connected() {
		t.Fatal("session still connected after exceeding its send-queue limit")
	}
	if err := s.SendPacket(1, p40); !errors.Is(err, ErrSessionClosed) {
		t.Fatalf("Send after the disconnect: %v, want ErrSessionClosed", err)
	}
	finish(t, s, fc)
	if cause := ts.waitDisconnected(t, testkit.WaitShort); !errors.Is(cause, ErrSendQueueFull) {
		t.Fatalf("cause %v, want ErrSendQueueFull", cause)
	}
	app.check(t, true)
}

// TestHarnessSendErrorDisconnects: a failed write disconnects the session
// with the write's error and releases its buffers.
func TestHarnessSendErrorDisconnects(t *testing.T) {
	app := newTestApp()
	h := newHarness(t, app.config())
	s, fc := h.connect()
	b := NewPacket(1, []byte("abc"))
	if err := s.Send(b); err != nil {
		t.Fatal(err)
	}
	b2 := NewPacket(2, []byte("queued"))
	s.Send(b2)
	boom := errors.New("boom")
	completeSend(t, s, fc, 0, boom)
	if s.Connected() {
		t.Fatal("still connected after a failed write")
	}
	finish(t, s, fc)
	if cause := s.events.(*testSession).waitDisconnected(t, testkit.WaitShort); !errors.Is(cause, boom) {
		t.Fatalf("cause %v, want the write error", cause)
	}
	if b.refs.Load() != 1 || b2.refs.Load() != 1 {
		t.Fatalf("refs %d %d after the session ended, want 1 1", b.refs.Load(), b2.refs.Load())
	}
	b.Release()
	b2.Release()
	app.check(t, true)
}

// TestHarnessMemoryChunkAfterTail: an engine with receive memory of its own
// (io_uring provided buffers) may complete a receive with more bytes than
// the session's receive buffer holds. When an incomplete packet is
// buffered, the next chunk must complete it and the rest be handled in
// place: a valid stream must never be cut with ErrRecvOverflow, and a
// malformed header must be reported as ErrProtocol.
func TestHarnessMemoryChunkAfterTail(t *testing.T) {
	for _, tt := range []struct {
		name      string
		tail      int // bytes of the first packet in the first receive
		malformed bool
	}{
		{"header incomplete", 2, false},
		{"payload incomplete", 10, false},
		{"then a malformed header", 2, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			app := newTestApp()
			app.record = true
			app.onPacket = func(*testSession, uint16, []byte) {}
			cfg := app.config()
			cfg.MaxPacketSize = 1024
			cfg.RecvBufferSize = 64 // buffer limit 1088 bytes
			h := newHarnessMemory(t, cfg)
			s, fc := h.connect()
			var stream []byte
			var want []packet
			for i := range 60 { // 60 * 60 bytes: one chunk above the buffer limit
				p := packet{uint16(i), testkit.Payload(i, 56)}
				want = append(want, p)
				stream = testkit.AppendPacket(stream, p.id, p.payload)
			}
			if tt.malformed {
				stream = append(stream, 0, 0, 0, 0)
			}
			feed(s, fc, stream[:tt.tail])
			feed(s, fc, stream[tt.tail:]) // one completion: len < engineChunk
			ts := s.events.(*testSession)
			if fc.isClosed() {
				finish(t, s, fc)
				cause := ts.waitDisconnected(t, testkit.WaitShort)
				if !tt.malformed || !errors.Is(cause, ErrProtocol) {
					t.Fatalf("session cut with %v after %d of %d packets", cause, len(ts.received()), len(want))
				}
			} else if tt.malformed {
				t.Fatal("malformed header not detected")
			}
			samePackets(t, ts.received(), want)
		})
	}
}
