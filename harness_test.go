package servercore

// A deterministic harness: a Session driven through a fake port.Conn, so a
// test decides exactly how the byte stream is cut into reads and how much
// each gathered write completes, without sockets or timing.

import (
	"net"
	"sync"
	"testing"

	"servercore/internal/port"
)

// fakeConn records registrations and lets the test complete them. It keeps
// the port.Conn contract: it never dispatches from Recv, Send or Close.
type fakeConn struct {
	t testing.TB
	// recvMemory: receives complete with the bytes in Event.Buf (the
	// engine's memory, as io_uring's provided buffers) instead of Buf.
	recvMemory bool

	mu      sync.Mutex
	recv    *port.Event // registered receive
	send    *port.Event // registered send
	sends   int         // Send registrations
	closed  bool
	closeEv *port.Event
	closes  int
}

func (c *fakeConn) Recv(ev *port.Event) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		c.t.Errorf("Recv registered after Close")
	}
	if c.recv != nil {
		c.t.Errorf("second Recv registered while one is in flight")
	}
	if !c.recvMemory && len(ev.Buf) == 0 {
		c.t.Errorf("Recv registered with an empty buffer")
	}
	c.recv = ev
}

func (c *fakeConn) Send(ev *port.Event) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		c.t.Errorf("Send registered after Close")
	}
	if c.send != nil {
		c.t.Errorf("second Send registered while one is in flight")
	}
	c.send = ev
	c.sends++
}

func (c *fakeConn) Close(ev *port.Event) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closes++
	if c.closed {
		return
	}
	c.closed, c.closeEv = true, ev
}

func (c *fakeConn) Post(ev *port.Event) { ev.Owner.Dispatch(ev) }

func (c *fakeConn) LocalAddr() net.Addr  { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1} }
func (c *fakeConn) RemoteAddr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 2} }

func (c *fakeConn) takeRecv() *port.Event {
	c.mu.Lock()
	defer c.mu.Unlock()
	ev := c.recv
	c.recv = nil
	return ev
}

// sentEv is a registered send with the buffers its owner gathered for it.
type sentEv struct {
	*port.Event
	Bufs [][]byte
}

// takeSend takes the registered send and, as an engine does right before
// writing, has its owner gather the buffers.
func (c *fakeConn) takeSend() *sentEv {
	c.mu.Lock()
	ev := c.send
	c.send = nil
	c.mu.Unlock()
	if ev == nil {
		return nil
	}
	se := &sentEv{Event: ev, Bufs: ev.Owner.Gather(ev)}
	total := 0
	for _, b := range se.Bufs {
		total += len(b)
	}
	if total == 0 {
		c.t.Errorf("a send with nothing to write (the original's \"Send 0\" defect)")
	}
	return se
}

func (c *fakeConn) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

// harness is one service with sessions on fake connections.
type harness struct {
	t          testing.TB
	svc        *Service
	recvMemory bool
}

func newHarness(t testing.TB, cfg Config) *harness {
	t.Helper()
	svc, err := newService(true, "fake:0", 0, cfg)
	if err != nil {
		t.Fatalf("newService: %v", err)
	}
	svc.engineRecvMemory = false
	return &harness{t: t, svc: svc}
}

// newHarnessMemory is newHarness for an engine that receives into memory of
// its own (Event.Buf set on completion), like io_uring with provided
// buffers.
func newHarnessMemory(t testing.TB, cfg Config) *harness {
	h := newHarness(t, cfg)
	h.svc.engineRecvMemory, h.recvMemory = true, true
	return h
}

// recvModes runs f for both ways an engine can receive.
func recvModes(t *testing.T, f func(t *testing.T, mk func(testing.TB, Config) *harness)) {
	t.Run("buffer", func(t *testing.T) { f(t, newHarness) })
	t.Run("memory", func(t *testing.T) { f(t, newHarnessMemory) })
}

// engineChunk is the most an engine-memory receive completes with at once.
const engineChunk = 4096

// connect makes a session on a new fake connection, as an accept would.
func (h *harness) connect() (*Session, *fakeConn) {
	h.t.Helper()
	h.svc.mu.Lock()
	h.svc.live++
	h.svc.mu.Unlock()
	s := newSession(h.svc, h.svc.nextID.Add(1))
	fc := &fakeConn{t: h.t, recvMemory: h.recvMemory}
	s.connectAccepted(fc)
	if !s.Connected() {
		h.t.Fatalf("session not connected after its Connect completion")
	}
	return s, fc
}

// feed delivers data as one read (or several, when the registered buffer
// is smaller), as the network would. It reports false if the session
// stopped receiving before all of data was delivered.
func feed(s *Session, fc *fakeConn, data []byte) bool {
	for len(data) > 0 {
		ev := fc.takeRecv()
		if ev == nil {
			return false
		}
		var n int
		if fc.recvMemory {
			n = min(len(data), engineChunk)
			// The engine's memory, reused after the completion: a copy the
			// test scribbles over afterwards catches a session that keeps
			// it.
			mem := append([]byte(nil), data[:n]...)
			ev.Buf, ev.N, ev.Err = mem, int32(n), nil
			s.dispatch(ev)
			for i := range mem {
				mem[i] = 0xEE
			}
			data = data[n:]
			continue
		}
		n = copy(ev.Buf, data)
		ev.N, ev.Err = int32(n), nil
		s.dispatch(ev)
		data = data[n:]
	}
	return true
}

// completeSend takes the registered send and completes it with n bytes (all
// of them if n < 0) and err; it returns the bytes the engine would have
// written.
func completeSend(t testing.TB, s *Session, fc *fakeConn, n int, err error) []byte {
	t.Helper()
	ev := fc.takeSend()
	if ev == nil {
		t.Fatalf("no send registered")
	}
	return completeSendEv(s, ev, n, err)
}

// completeSendEv completes a taken send.
func completeSendEv(s *Session, ev *sentEv, n int, err error) []byte {
	var all []byte
	for _, b := range ev.Bufs {
		all = append(all, b...)
	}
	if n < 0 || n > len(all) {
		n = len(all) // an engine never reports more than it was given
	}
	ev.N, ev.Err = int32(n), err
	s.dispatch(ev.Event)
	return all[:n]
}

// finish completes what the engine completes after Close: the operations in
// flight, with an error, then the close event.
func finish(t testing.TB, s *Session, fc *fakeConn) {
	t.Helper()
	if !fc.isClosed() {
		t.Fatalf("finish on a connection that was not closed")
	}
	if ev := fc.takeRecv(); ev != nil {
		ev.N, ev.Err = 0, net.ErrClosed
		s.dispatch(ev)
	}
	for ev := fc.takeSend(); ev != nil; ev = fc.takeSend() {
		ev.N, ev.Err = 0, net.ErrClosed
		s.dispatch(ev.Event)
	}
	fc.mu.Lock()
	ev := fc.closeEv
	fc.mu.Unlock()
	if ev == nil {
		t.Fatalf("the session closed its connection without a completion event")
	}
	ev.N, ev.Err = 0, nil
	s.dispatch(ev)
}

// queuedBytes is how many bytes s has queued or in flight.
func queuedBytes(s *Session) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.out == nil {
		return 0
	}
	return s.out.queued
}
