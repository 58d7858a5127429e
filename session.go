package servercore

import (
	"fmt"
	"net"
	"sync"
	"sync/atomic"

	"servercore/internal/port"
)

type sessionState uint32

const (
	stateConnecting sessionState = iota
	stateConnected
	stateDisconnecting
	stateDisconnected
)

// Session is one connection. It receives into its RecvBuffer and hands the
// bytes (raw sessions) or whole packets (packet sessions) to its handler; it
// sends SendBuffers queued from any goroutine in one gathered write per round.
type Session struct {
	svc    *Service
	id     uint64
	conn   port.Conn
	events lifecycle
	raw    Handler       // set for raw sessions
	pkt    PacketHandler // set for packet sessions

	// One reusable event per operation kind, as in the IOCP original.
	connectEv, recvEv, sendEv, disconnectEv port.Event

	// Owned by the completion context (callbacks are serialised).
	recv       RecvBuffer
	inflight   []*SendBuffer // the buffers of the send in flight
	iov        [][]byte      // their bytes, the gathered write
	sendLeft   int           // bytes of the send in flight not yet written; set by gather
	connectErr chan error    // a client Connect waits here

	state atomic.Uint32 // sessionState; changed only under mu

	mu      sync.Mutex // guards the fields below and orders registrations before Close
	cause   error
	queue   []*SendBuffer
	queued  int  // bytes queued or in flight
	sending bool // a send is registered

	lastRecv atomic.Int64 // the service clock at the last receive
	stats    counters
}

// counters are a session's traffic counts; the completion context writes
// them, Stats reads them.
type counters struct {
	packetsIn, packetsOut, bytesIn, bytesOut atomic.Uint64
}

// sessionOwner receives the session's completions without making Dispatch
// part of Session's API.
type sessionOwner Session

func (o *sessionOwner) Dispatch(ev *port.Event) { (*Session)(o).dispatch(ev) }

func (o *sessionOwner) Gather(ev *port.Event) { (*Session)(o).gather(ev) }

func newSession(svc *Service, id uint64) *Session {
	s := &Session{svc: svc, id: id}
	if svc.cfg.NewPacketSession != nil {
		s.pkt = svc.cfg.NewPacketSession()
		s.events = s.pkt
	} else {
		s.raw = svc.cfg.NewSession()
		s.events = s.raw
	}
	owner := (*sessionOwner)(s)
	s.connectEv = port.Event{Type: port.Connect, Owner: owner}
	s.recvEv = port.Event{Type: port.Recv, Owner: owner}
	s.sendEv = port.Event{Type: port.Send, Owner: owner}
	s.disconnectEv = port.Event{Type: port.Disconnect, Owner: owner}
	size := svc.cfg.RecvBufferSize
	s.recv.init(size, size/4, svc.cfg.MaxPacketSize+size)
	return s
}

// ID is the session's number, unique within its service.
func (s *Session) ID() uint64 { return s.id }

// Service is the service the session belongs to.
func (s *Session) Service() *Service { return s.svc }

// Connected reports whether the session is connected and not disconnecting.
func (s *Session) Connected() bool { return sessionState(s.state.Load()) == stateConnected }

// LocalAddr is the local address of the connection.
func (s *Session) LocalAddr() net.Addr { return s.conn.LocalAddr() }

// RemoteAddr is the peer's address.
func (s *Session) RemoteAddr() net.Addr { return s.conn.RemoteAddr() }

// Send queues b to be written and returns at once; it is safe from any
// goroutine. The session holds its own reference to b until the write
// completes, so the caller may Release b right after Send. Send returns
// ErrSessionClosed once the session is disconnecting, and ErrSendQueueFull,
// disconnecting the session, when the queue would exceed its limit.
func (s *Session) Send(b *SendBuffer) error {
	if !b.sealed {
		return ErrNotSealed
	}
	n := len(b.data)
	s.mu.Lock()
	if sessionState(s.state.Load()) != stateConnected {
		s.mu.Unlock()
		return ErrSessionClosed
	}
	if n == 0 {
		s.mu.Unlock()
		return nil
	}
	if s.queued+n > s.svc.cfg.SendQueueLimit {
		s.mu.Unlock()
		err := fmt.Errorf("%w: %d bytes queued, %d more, limit %d", ErrSendQueueFull, s.queued, n, s.svc.cfg.SendQueueLimit)
		s.Disconnect(err)
		return err
	}
	b.Retain()
	s.queue = append(s.queue, b)
	s.queued += n
	if !s.sending {
		s.sending = true
		s.conn.Send(&s.sendEv)
	}
	s.mu.Unlock()
	return nil
}

// SendPacket sends one packet made of id and payload.
func (s *Session) SendPacket(id uint16, payload []byte) error {
	b := NewPacket(id, payload)
	err := s.Send(b)
	b.Release()
	return err
}

// Disconnect closes the session with cause (ErrDisconnected if nil); queued
// sends that were not written are dropped. OnDisconnected(cause) follows once
// every operation in flight has completed. Disconnect is idempotent and safe
// from any goroutine, the session's own callbacks included.
func (s *Session) Disconnect(cause error) {
	if cause == nil {
		cause = ErrDisconnected
	}
	s.mu.Lock()
	if sessionState(s.state.Load()) != stateConnected {
		s.mu.Unlock()
		return
	}
	s.state.Store(uint32(stateDisconnecting))
	s.cause = cause
	s.mu.Unlock()
	// Every registration happened under mu while connected, so before this.
	s.conn.Close(&s.disconnectEv)
}

func (s *Session) dispatch(ev *port.Event) {
	switch ev.Type {
	case port.Connect:
		s.processConnect(ev)
	case port.Recv:
		s.processRecv(ev)
	case port.Send:
		s.processSend(ev)
	case port.Disconnect:
		s.processDisconnect()
	}
}

func (s *Session) processConnect(ev *port.Event) {
	if ev.Err != nil {
		s.svc.connectFailed(s, ev.Err)
		return
	}
	s.conn = ev.Conn
	if !s.svc.admit(s) {
		s.conn.Close(nil)
		s.svc.connectFailed(s, ErrServiceClosed)
		return
	}
	s.touch()
	s.events.OnConnected(s)
	if s.connectErr != nil {
		s.connectErr <- nil
	}
	s.registerRecv()
}

// registerRecv prepares the receive buffer and registers a receive, unless
// the session is disconnecting.
func (s *Session) registerRecv() {
	if !s.svc.engineRecvMemory {
		s.recv.Clean()
		if s.recv.Free() == 0 && !s.recv.Grow() {
			s.Disconnect(fmt.Errorf("%w: %d unread bytes fill the buffer", ErrRecvOverflow, s.recv.Len()))
			return
		}
		s.recvEv.Buf = s.recv.WriteSlice()
	}
	s.mu.Lock()
	if sessionState(s.state.Load()) == stateConnected {
		s.conn.Recv(&s.recvEv)
	}
	s.mu.Unlock()
}

func (s *Session) processRecv(ev *port.Event) {
	data := ev.Data
	ev.Buf, ev.Data = nil, nil
	switch {
	case ev.Err != nil:
		s.Disconnect(fmt.Errorf("recv: %w", ev.Err))
		return
	case ev.N == 0:
		s.Disconnect(ErrPeerClosed)
		return
	}
	s.touch()
	s.stats.bytesIn.Add(uint64(ev.N))
	var err error
	if data != nil {
		err = s.consumeData(data)
	} else {
		filled := ev.N == s.recv.Free()
		if !s.recv.OnWrite(ev.N) {
			err = fmt.Errorf("%w: %d bytes written into %d free", ErrRecvOverflow, ev.N, s.recv.Free())
		} else if err = s.consumeBuffer(); err == nil && filled {
			s.recv.Grow() // the stream outpaces the buffer
		}
	}
	if err != nil {
		s.Disconnect(err)
		return
	}
	s.registerRecv()
}

// consumeData handles bytes received into the engine's memory. While part
// of a packet is buffered it moves only what completes that packet into the
// receive buffer; everything else is handled in place, and only an
// incomplete tail is kept.
func (s *Session) consumeData(data []byte) error {
	for len(data) > 0 && s.Connected() {
		if s.recv.Len() == 0 {
			n, need, err := s.consume(data)
			if err != nil || !s.Connected() {
				return err
			}
			if !s.recv.Write(data[n:]) {
				return fmt.Errorf("%w: %d unconsumed bytes", ErrRecvOverflow, len(data)-n)
			}
			if need > 0 {
				s.recv.Reserve(need)
			}
			return nil
		}
		take := len(data)
		if s.pkt != nil {
			take = min(take, s.tailWant())
		}
		if !s.recv.Write(data[:take]) {
			return fmt.Errorf("%w: %d unread bytes and %d more", ErrRecvOverflow, s.recv.Len(), take)
		}
		data = data[take:]
		if err := s.consumeBuffer(); err != nil {
			return err
		}
	}
	return nil
}

// tailWant is how many more bytes complete the buffered header, or else the
// buffered packet, whose header consumeBuffer has already checked.
func (s *Session) tailWant() int {
	b := s.recv.Bytes()
	if len(b) < HeaderSize {
		return HeaderSize - len(b)
	}
	return max(int(ReadPacketHeader(b).Size)-len(b), 1)
}

// consumeBuffer hands the receive buffer's bytes to the handler, consumes
// what it took and makes room for the packet that is incomplete.
func (s *Session) consumeBuffer() error {
	n, need, err := s.consume(s.recv.Bytes())
	s.recv.OnRead(n)
	if err == nil && need > 0 {
		s.recv.Reserve(need)
	}
	return err
}

// consume hands data to the handler: whole packets to a packet handler, the
// bytes to a raw one. It returns the bytes consumed and, for an incomplete
// packet, its whole size.
func (s *Session) consume(data []byte) (n, need int, err error) {
	if s.pkt == nil {
		if !s.Connected() {
			return 0, 0, nil
		}
		n = s.raw.OnRecv(s, data)
		if n < 0 || n > len(data) {
			return 0, 0, fmt.Errorf("%w: OnRecv consumed %d of %d bytes", ErrRecvOverflow, n, len(data))
		}
		return n, 0, nil
	}
	for sessionState(s.state.Load()) == stateConnected {
		id, payload, size, pneed, perr := NextPacket(data[n:], s.svc.cfg.MaxPacketSize)
		if size == 0 {
			return n, pneed, perr
		}
		s.stats.packetsIn.Add(1)
		s.pkt.OnRecvPacket(s, id, payload)
		n += size
	}
	return n, 0, nil
}

// gather moves the queue to the send in flight and puts its bytes in
// ev.Bufs, unless a partial write is being resumed. The engine calls it right
// before writing, so everything queued by then goes out in one write.
func (s *Session) gather(ev *port.Event) {
	if s.sendLeft > 0 {
		return
	}
	s.mu.Lock()
	s.inflight, s.queue = s.queue, s.inflight[:0]
	s.mu.Unlock()
	iov := s.iov[:0]
	n := 0
	for _, b := range s.inflight {
		iov = append(iov, b.data)
		n += len(b.data)
	}
	s.iov, s.sendLeft = iov, n
	ev.Bufs = iov
}

func (s *Session) processSend(ev *port.Event) {
	if ev.Err == nil && ev.N < s.sendLeft {
		// A partial write: resume where it stopped.
		s.sendLeft -= ev.N
		ev.Bufs = port.Advance(ev.Bufs, ev.N)
		s.mu.Lock()
		if sessionState(s.state.Load()) == stateConnected {
			s.conn.Send(ev)
			s.mu.Unlock()
			return
		}
		s.mu.Unlock()
		ev.Err = ErrSessionClosed // the rest is dropped
	}
	count, written := len(s.inflight), 0
	for i, b := range s.inflight {
		written += len(b.data)
		b.Release()
		s.inflight[i] = nil
	}
	clear(s.iov)
	s.inflight, s.sendLeft = s.inflight[:0], 0
	ev.Bufs = nil
	if ev.Err != nil {
		s.mu.Lock()
		s.sending = false
		s.mu.Unlock()
		s.Disconnect(fmt.Errorf("send: %w", ev.Err))
		return
	}
	s.stats.packetsOut.Add(uint64(count))
	s.stats.bytesOut.Add(uint64(written))
	s.mu.Lock()
	s.queued -= written
	s.sending = len(s.queue) > 0 && sessionState(s.state.Load()) == stateConnected
	if s.sending {
		s.conn.Send(ev)
	}
	s.mu.Unlock()
	s.events.OnSend(s, written)
}

func (s *Session) processDisconnect() {
	s.mu.Lock()
	s.state.Store(uint32(stateDisconnected))
	queue, cause := s.queue, s.cause
	s.queue, s.queued, s.sending = nil, 0, false
	s.mu.Unlock()
	for _, b := range queue {
		b.Release()
	}
	s.events.OnDisconnected(s, cause)
	s.svc.release(s)
}

// touch records a receive for the idle timeout.
func (s *Session) touch() {
	if s.svc.cfg.IdleTimeout > 0 {
		s.lastRecv.Store(s.svc.clock.Load())
	}
}
