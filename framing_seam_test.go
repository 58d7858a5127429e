package servercore

// The framing seam on its own: what the packet framing reports for every
// shape of input, and a third framing, written only against the seam, that
// puts a header of each session's own in front of every gathered write, to
// show that such a framing needs no branch in the session and never copies
// a shared SendBuffer.

import (
	"bytes"
	"encoding/binary"
	"errors"
	"sync"
	"testing"

	"servercore/internal/testkit"
)

func TestPacketFramingDeliver(t *testing.T) {
	whole := testkit.AppendPacket(nil, 7, []byte("abc")) // 7 bytes
	big := testkit.AppendPacket(nil, 8, make([]byte, 100))
	tests := []struct {
		name          string
		data          []byte
		n, msgs, need int
		protocolError bool
	}{
		{name: "empty", data: nil},
		{name: "one whole packet", data: whole, n: 7, msgs: 1},
		{name: "two whole packets", data: append(append([]byte{}, whole...), whole...), n: 14, msgs: 2},
		{name: "half a header", data: whole[:2], need: HeaderSize},
		{name: "a packet and half a header", data: append(append([]byte{}, whole...), big[:3]...), n: 7, msgs: 1, need: HeaderSize},
		{name: "a header and part of its payload", data: big[:10], need: len(big)},
		{name: "a packet and part of the next", data: append(append([]byte{}, whole...), big[:50]...), n: 7, msgs: 1, need: len(big)},
		{name: "size below the header", data: []byte{3, 0, 1, 0}, protocolError: true},
		{name: "size above the maximum", data: []byte{0xff, 0xff, 1, 0}, protocolError: true},
		{name: "a packet, then a bad header", data: append(append([]byte{}, whole...), 0, 0, 1, 0), n: 7, msgs: 1, protocolError: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app := newTestApp()
			app.record = true
			cfg := app.config()
			cfg.MaxPacketSize = 1000
			h := newHarness(t, cfg)
			s, fc := h.connect()
			n, msgs, need, err := h.svc.framing.deliver(s, tt.data)
			if n != tt.n || msgs != tt.msgs || (err == nil && need != tt.need) {
				t.Errorf("deliver = (n %d, msgs %d, need %d), want (%d, %d, %d)", n, msgs, need, tt.n, tt.msgs, tt.need)
			}
			if tt.protocolError != errors.Is(err, ErrProtocol) {
				t.Errorf("deliver error %v, want ErrProtocol: %v", err, tt.protocolError)
			}
			if got := len(s.events.(*testSession).received()); got != tt.msgs {
				t.Errorf("handler got %d packets, want %d", got, tt.msgs)
			}
			s.Disconnect(nil)
			finish(t, s, fc)
		})
	}
}

// headedFraming is a framing of the kind WebSocket needs: every gathered
// write is one message, [length u16 BE][the SendBuffers' bytes], with the
// header in memory of the session's own; a received message is delivered
// as one packet with id 0. Its per-session state is a map, for the test.
type headedFraming struct {
	plainStream // no handshake; appendWrite below replaces its writes
	mu          sync.Mutex
	heads       map[*Session]*[2]byte
}

func (f *headedFraming) deliver(s *Session, data []byte) (n, msgs, need int, err error) {
	h := s.events.(PacketHandler)
	for s.Connected() {
		rest := data[n:]
		if len(rest) < 2 {
			if len(rest) > 0 {
				need = 2
			}
			return n, msgs, need, nil
		}
		size := 2 + int(binary.BigEndian.Uint16(rest))
		if len(rest) < size {
			return n, msgs, size, nil
		}
		h.OnRecvPacket(s, 0, rest[2:size])
		n, msgs = n+size, msgs+1
	}
	return n, msgs, 0, nil
}

func (f *headedFraming) appendWrite(iov [][]byte, o *sendState) [][]byte {
	total := 0
	for _, b := range o.inflight {
		total += b.Len()
	}
	f.mu.Lock()
	head := f.heads[(*Session)(o.ev.Owner.(*sessionOwner))]
	f.mu.Unlock()
	binary.BigEndian.PutUint16(head[:], uint16(total))
	iov = append(iov, head[:])
	for _, b := range o.inflight {
		iov = append(iov, b.Bytes())
	}
	return iov
}

func TestFramingSeamHeadedWrites(t *testing.T) {
	recvModes(t, func(t *testing.T, mk func(testing.TB, Config) *harness) {
		app := newTestApp()
		app.record = true
		app.onPacket = func(*testSession, uint16, []byte) {} // no echo
		h := mk(t, app.config())
		f := &headedFraming{heads: make(map[*Session]*[2]byte)}
		h.svc.framing = f
		a, fa := h.connect()
		b, fb := h.connect()
		f.heads[a], f.heads[b] = new([2]byte), new([2]byte)

		// Receive: a message split across reads, then two in one read.
		msg := func(body string) []byte {
			return append(binary.BigEndian.AppendUint16(nil, uint16(len(body))), body...)
		}
		stream := append(append(msg("hello"), msg("")...), msg("world!")...)
		if !feed(a, fa, stream[:3]) || !feed(a, fa, stream[3:]) {
			t.Fatal("the session stopped receiving")
		}
		got := a.events.(*testSession).received()
		if len(got) != 3 || string(got[0].payload) != "hello" || len(got[1].payload) != 0 || string(got[2].payload) != "world!" {
			t.Fatalf("received %v, want hello, an empty message, world!", got)
		}

		// Send: one shared buffer to both sessions, written behind each
		// session's own header; a partial write resumes across the header.
		g := NewGroup()
		g.Add(a)
		g.Add(b)
		shared := NewPacket(5, testkit.Payload(5, 40))
		if n := g.Broadcast(shared); n != 2 {
			t.Fatalf("Broadcast queued %d, want 2", n)
		}
		for _, c := range []struct {
			s  *Session
			fc *fakeConn
		}{{a, fa}, {b, fb}} {
			ev := c.fc.takeSend()
			if ev == nil || len(ev.Bufs) != 2 || &ev.Bufs[0][0] != &f.heads[c.s][0] || &ev.Bufs[1][0] != &shared.Bytes()[0] {
				t.Fatalf("session %d's write is not [its own header, the shared buffer's bytes]", c.s.ID())
			}
			wrote := completeSendEv(c.s, ev, 1, nil) // half the header
			wrote = append(wrote, completeSend(t, c.s, c.fc, -1, nil)...)
			want := append(binary.BigEndian.AppendUint16(nil, uint16(shared.Len())), shared.Bytes()...)
			if !bytes.Equal(wrote, want) {
				t.Fatalf("session %d wrote % x, want % x", c.s.ID(), wrote, want)
			}
			if sent := c.s.events.(*testSession).sent.Load(); sent != int64(shared.Len()) {
				t.Fatalf("OnSend reported %d bytes, want the %d of the SendBuffer (the header is the framing's)", sent, shared.Len())
			}
		}
		if refs := shared.refs.Load(); refs != 1 {
			t.Fatalf("refs %d after both writes, want the caller's 1", refs)
		}
		shared.Release()
		for _, c := range []struct {
			s  *Session
			fc *fakeConn
		}{{a, fa}, {b, fb}} {
			c.s.Disconnect(nil)
			finish(t, c.s, c.fc)
		}
		app.check(t, true)
	})
}
