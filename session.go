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
//
// An idle session holds only what it must: the send side and the connect and
// disconnect records exist only while they are in use, so that tens of
// thousands of quiet connections stay cheap.
type Session struct {
	svc    *Service
	events lifecycle // the handler: a Handler, or a PacketHandler if packets
	id     uint64

	// recvEv is the receive, registered again after each completion. For
	// an accepted connection it first carries the Connect completion; from
	// that completion on, its Conn is the session's connection.
	recvEv port.Event
	// recv holds received bytes not yet consumed, owned by the completion
	// context; its limits are svc.recvLimits. On engines that receive into
	// their own memory it is nil while no partial packet is held.
	recv *recvBuf

	mu sync.Mutex // guards the fields below and orders registrations before Close
	// state is the sessionState and the sending flag (a send is
	// registered); changed only under mu, read anywhere.
	state    atomic.Uint32
	lastRecv atomic.Uint32 // the service's clock tick at the last receive
	out      *sendState    // while there is something to send
	ctl      *control      // while a client connects, and from Disconnect on
}

// sendingFlag is the bit of Session.state that says a send is registered.
const sendingFlag = 1 << 8

// status is the session's sessionState.
func (s *Session) status() sessionState { return sessionState(s.state.Load() &^ sendingFlag) }

// setStatus changes the sessionState, keeping the sending flag; under mu.
func (s *Session) setStatus(st sessionState) {
	s.state.Store(s.state.Load()&sendingFlag | uint32(st))
}

// sending reports whether a send is registered; under mu.
func (s *Session) sending() bool { return s.state.Load()&sendingFlag != 0 }

// setSending sets or clears the sending flag; under mu.
func (s *Session) setSending(on bool) {
	st := s.state.Load() &^ sendingFlag
	if on {
		st |= sendingFlag
	}
	s.state.Store(st)
}

// framed reports whether the session cuts packets for a PacketHandler.
func (s *Session) framed() bool { return s.svc.cfg.NewPacketSession != nil }

// sendState is a session's send side: its queue and the send in flight. It
// is taken from a pool when a session has something to send and returned
// when everything was written.
type sendState struct {
	ev       port.Event
	queued   int           // bytes queued or in flight
	queue    []*SendBuffer // queued by Send, not yet gathered
	inflight []*SendBuffer // gathered into the send in flight
	gathered [][]byte      // their bytes
	iov      [][]byte      // what is left of gathered to write
	left     int           // bytes of the send in flight not yet written
}

var sendStatePool = sync.Pool{New: func() any { return new(sendState) }}

// control holds the connect and disconnect records, which a session needs
// only at its start and its end.
type control struct {
	ev         port.Event
	cause      error      // why the session is disconnecting
	connectErr chan error // a client Connect waits here
}

// sessionOwner receives the session's completions without making Dispatch
// part of Session's API.
type sessionOwner Session

func (o *sessionOwner) Dispatch(ev *port.Event) { (*Session)(o).dispatch(ev) }

func (o *sessionOwner) Gather(*port.Event) [][]byte { return (*Session)(o).gather() }

func newSession(svc *Service, id uint64) *Session {
	s := &Session{svc: svc, id: id}
	if svc.cfg.NewPacketSession != nil {
		s.events = svc.cfg.NewPacketSession()
	} else {
		s.events = svc.cfg.NewSession()
	}
	s.recvEv = port.Event{Type: port.Recv, Owner: (*sessionOwner)(s)}
	return s
}

// connectAccepted delivers the Connect completion of a session made for an
// accepted connection, on the receive event, which is free until then.
func (s *Session) connectAccepted(conn port.Conn) {
	s.recvEv.Type, s.recvEv.Conn = port.Connect, conn
	conn.Post(&s.recvEv)
}

// connectClient prepares the Connect of a client session and returns its
// event and the channel its result arrives on.
func (s *Session) connectClient() (*port.Event, <-chan error) {
	done := make(chan error, 1)
	s.ctl = &control{ev: port.Event{Type: port.Connect, Owner: (*sessionOwner)(s)}, connectErr: done}
	return &s.ctl.ev, done
}

// conn is the session's connection, set by its Connect completion.
func (s *Session) conn() port.Conn { return s.recvEv.Conn }

// ID is the session's number, unique within its service.
func (s *Session) ID() uint64 { return s.id }

// Service is the service the session belongs to.
func (s *Session) Service() *Service { return s.svc }

// Connected reports whether the session is connected and not disconnecting.
func (s *Session) Connected() bool { return s.status() == stateConnected }

// LocalAddr is the local address of the connection.
func (s *Session) LocalAddr() net.Addr { return s.conn().LocalAddr() }

// RemoteAddr is the peer's address.
func (s *Session) RemoteAddr() net.Addr { return s.conn().RemoteAddr() }

// Send queues b to be written and returns at once; it is safe from any
// goroutine. The session holds its own reference to b until the write
// completes, so the caller may Release b right after Send. Send returns
// ErrSessionClosed once the session is disconnecting, and ErrSendQueueFull,
// disconnecting the session, when the queue would exceed its limit.
func (s *Session) Send(b *SendBuffer) error {
	if !b.sealed {
		return ErrNotSealed
	}
	b.Retain()
	err := s.sendRetained(b)
	if err != nil {
		b.Release()
	}
	return err
}

// sendRetained is Send of a sealed buffer for which the caller already took
// the session's reference; on error the reference is still the caller's.
func (s *Session) sendRetained(b *SendBuffer) error {
	n := len(b.data)
	s.mu.Lock()
	if s.status() != stateConnected {
		s.mu.Unlock()
		return ErrSessionClosed
	}
	if n == 0 {
		s.mu.Unlock()
		return nil
	}
	queued := 0
	if s.out != nil {
		queued = s.out.queued
	}
	if queued+n > s.svc.cfg.SendQueueLimit {
		s.mu.Unlock()
		err := fmt.Errorf("%w: %d bytes queued, %d more, limit %d", ErrSendQueueFull, queued, n, s.svc.cfg.SendQueueLimit)
		s.Disconnect(err)
		return err
	}
	if s.out == nil {
		s.out = sendStatePool.Get().(*sendState)
		s.out.ev = port.Event{Type: port.Send, Owner: (*sessionOwner)(s)}
	}
	s.out.queue = append(s.out.queue, b)
	s.out.queued += n
	if !s.sending() {
		s.setSending(true)
		s.startWrite(&s.out.ev)
	}
	s.mu.Unlock()
	return nil
}

// startWrite registers the session's next write: at once, or at the
// service's next send tick when Config.SendInterval is set. Under mu.
func (s *Session) startWrite(ev *port.Event) {
	if s.svc.held != nil {
		s.svc.held.add(s)
		return
	}
	s.conn().Send(ev)
}

// writeHeld registers the write a send tick held, unless the session has
// disconnected meanwhile (its queue is dropped then).
func (s *Session) writeHeld() {
	s.mu.Lock()
	if s.status() == stateConnected && s.sending() {
		s.conn().Send(&s.out.ev)
	}
	s.mu.Unlock()
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
	if s.status() != stateConnected {
		s.mu.Unlock()
		return
	}
	s.setStatus(stateDisconnecting)
	s.ctl = &control{ev: port.Event{Type: port.Disconnect, Owner: (*sessionOwner)(s)}, cause: cause}
	ev := &s.ctl.ev
	s.mu.Unlock()
	// Every registration happened under mu while connected, so before this.
	s.conn().Close(ev)
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
	var waiter chan<- error // a client Connect's
	if ctl := s.ctl; ctl != nil {
		waiter = ctl.connectErr
	}
	if ev.Err != nil {
		s.svc.connectFailed(waiter, ev.Err)
		return
	}
	if ev != &s.recvEv { // a client's connect
		s.recvEv.Conn, ev.Conn = ev.Conn, nil
	}
	s.recvEv.Type = port.Recv
	if !s.svc.admit(s) {
		s.conn().Close(nil)
		s.svc.connectFailed(waiter, ErrServiceClosed)
		return
	}
	s.mu.Lock()
	if s.ctl != nil && s.ctl.connectErr != nil {
		s.ctl = nil // not needed until Disconnect
	}
	s.mu.Unlock()
	s.events.OnConnected(s)
	if waiter != nil {
		waiter <- nil
	}
	s.registerRecv()
}

// registerRecv prepares the receive buffer and registers a receive, unless
// the session is disconnecting.
func (s *Session) registerRecv() {
	if !s.svc.engineRecvMemory {
		lim := &s.svc.recvLimits
		if s.recv == nil {
			s.recv = newRecvBuf(lim)
		}
		s.recv.clean(lim)
		if s.recv.Free() == 0 && !s.recv.grow(lim) {
			s.Disconnect(fmt.Errorf("%w: %d unread bytes fill the buffer", ErrRecvOverflow, s.recv.Len()))
			return
		}
		s.recvEv.Buf = s.recv.writeSlice()
	}
	s.mu.Lock()
	if s.status() == stateConnected {
		s.conn().Recv(&s.recvEv)
	}
	s.mu.Unlock()
}

func (s *Session) processRecv(ev *port.Event) {
	data := ev.Buf
	ev.Buf = nil
	switch {
	case ev.Err != nil:
		s.Disconnect(fmt.Errorf("recv: %w", ev.Err))
		return
	case ev.N == 0:
		s.Disconnect(ErrPeerClosed)
		return
	}
	s.touch()
	s.svc.traffic.of(s.id).bytesIn.Add(uint64(ev.N))
	var err error
	if s.svc.engineRecvMemory {
		err = s.consumeData(data)
	} else {
		n := int(ev.N)
		filled := n == s.recv.Free()
		if !s.recv.OnWrite(n) {
			err = fmt.Errorf("%w: %d bytes written into %d free", ErrRecvOverflow, n, s.recv.Free())
		} else if err = s.consumeBuffer(); err == nil && filled {
			s.recv.grow(&s.svc.recvLimits) // the stream outpaces the buffer
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
// incomplete tail is kept. The receive buffer exists only while it holds
// bytes, so that an idle session holds no receive memory.
func (s *Session) consumeData(data []byte) error {
	lim := &s.svc.recvLimits
	for len(data) > 0 && s.Connected() {
		if s.recv == nil {
			n, need, err := s.consume(data)
			if err != nil || !s.Connected() || n == len(data) {
				return err
			}
			s.recv = newRecvBuf(lim)
			if !s.recv.write(data[n:], lim) {
				return fmt.Errorf("%w: %d unconsumed bytes", ErrRecvOverflow, len(data)-n)
			}
			if need > 0 {
				s.recv.reserve(need, lim)
			}
			return nil
		}
		take := len(data)
		if s.framed() {
			take = min(take, s.tailWant())
		}
		if !s.recv.write(data[:take], lim) {
			return fmt.Errorf("%w: %d unread bytes and %d more", ErrRecvOverflow, s.recv.Len(), take)
		}
		data = data[take:]
		if err := s.consumeBuffer(); err != nil {
			return err
		}
		if s.recv.Len() == 0 {
			s.freeRecv()
		}
	}
	return nil
}

// freeRecv gives the receive buffer back.
func (s *Session) freeRecv() {
	if s.recv != nil {
		s.recv.release()
		s.recv = nil
	}
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
		s.recv.reserve(need, &s.svc.recvLimits)
	}
	return err
}

// consume hands data to the handler: whole packets to a packet handler, the
// bytes to a raw one. It returns the bytes consumed and, for an incomplete
// packet, its whole size.
func (s *Session) consume(data []byte) (n, need int, err error) {
	if !s.framed() {
		if !s.Connected() {
			return 0, 0, nil
		}
		n = s.events.(Handler).OnRecv(s, data)
		if n < 0 || n > len(data) {
			return 0, 0, fmt.Errorf("%w: OnRecv consumed %d of %d bytes", ErrRecvOverflow, n, len(data))
		}
		return n, 0, nil
	}
	h := s.events.(PacketHandler)
	count := 0
	for s.status() == stateConnected {
		id, payload, size, pneed, perr := NextPacket(data[n:], s.svc.cfg.MaxPacketSize)
		if size == 0 {
			need, err = pneed, perr
			break
		}
		count++
		h.OnRecvPacket(s, id, payload)
		n += size
	}
	if count > 0 {
		s.svc.traffic.of(s.id).packetsIn.Add(uint64(count))
	}
	return n, need, err
}

// gather moves the queue to the send in flight and returns its bytes, or
// what a partial write left of them. The engine calls it right before
// writing, so everything queued by then goes out in one write.
func (s *Session) gather() [][]byte {
	s.mu.Lock()
	o := s.out
	if o.left > 0 {
		s.mu.Unlock()
		return o.iov
	}
	o.inflight, o.queue = o.queue, o.inflight[:0]
	s.mu.Unlock()
	g := o.gathered[:0]
	for _, b := range o.inflight {
		g = append(g, b.data)
		o.left += len(b.data)
	}
	o.gathered, o.iov = g, g
	return g
}

func (s *Session) processSend(ev *port.Event) {
	s.mu.Lock()
	o := s.out
	s.mu.Unlock()
	if ev.Err == nil && int(ev.N) < o.left {
		// A partial write: resume where it stopped.
		o.left -= int(ev.N)
		o.iov = port.Advance(o.iov, int(ev.N))
		s.mu.Lock()
		if s.status() == stateConnected {
			s.conn().Send(ev)
			s.mu.Unlock()
			return
		}
		s.mu.Unlock()
		ev.Err = ErrSessionClosed // the rest is dropped
	}
	count, written := len(o.inflight), 0
	for i, b := range o.inflight {
		written += len(b.data)
		b.Release()
		o.inflight[i] = nil
	}
	clear(o.gathered)
	o.inflight, o.gathered, o.iov, o.left = o.inflight[:0], o.gathered[:0], nil, 0
	if ev.Err != nil {
		s.mu.Lock()
		s.setSending(false)
		s.mu.Unlock()
		s.Disconnect(fmt.Errorf("send: %w", ev.Err))
		return
	}
	t := s.svc.traffic.of(s.id)
	t.packetsOut.Add(uint64(count))
	t.bytesOut.Add(uint64(written))
	s.mu.Lock()
	o.queued -= written
	more := len(o.queue) > 0 && s.status() == stateConnected
	s.setSending(more)
	if more {
		s.startWrite(ev)
	} else if len(o.queue) == 0 {
		s.out = nil
		sendStatePool.Put(o)
	}
	s.mu.Unlock()
	s.events.OnSend(s, written)
}

func (s *Session) processDisconnect() {
	s.mu.Lock()
	s.state.Store(uint32(stateDisconnected))
	o, cause := s.out, s.ctl.cause
	s.out, s.ctl = nil, nil
	s.mu.Unlock()
	if o != nil {
		for i, b := range o.queue {
			b.Release()
			o.queue[i] = nil
		}
		o.queue, o.queued = o.queue[:0], 0
		sendStatePool.Put(o)
	}
	s.freeRecv()
	s.events.OnDisconnected(s, cause)
	s.svc.release(s)
}

// touch records a receive for the idle timeout.
func (s *Session) touch() {
	if s.svc.cfg.IdleTimeout > 0 {
		s.lastRecv.Store(s.svc.tick.Load())
	}
}
