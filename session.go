package servercore

import (
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"servercore/internal/port"
)

// The session is written in a few files, one path each: this one holds its
// type, state and lifecycle (connect, drain, disconnect) and the dispatch of
// its completions; session_recv.go the receive path; session_send.go the
// send path and the fan-out of a broadcast; callback.go what surrounds the
// handler's callbacks (panics, slow ones, Stop called from one); timeouts.go
// the clock that cuts idle, stalled and stale sessions.

type sessionState uint32

const (
	stateConnecting sessionState = iota
	stateConnected
	stateDraining // its queued sends are written, then it disconnects
	stateDisconnecting
	stateDisconnected
)

// Session is one connection. It receives into its receive buffer and hands the
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
	// their own memory it is nil while no partial message is held.
	recv *recvBuf
	// recvNeed is the size of the message at the front of recv as far as
	// the framing knows it, or 0 if any number of bytes may come.
	recvNeed int32

	// mu orders the session's registrations before its Close: every Recv
	// and Send is registered under mu while the session is connected, and
	// Disconnect leaves that state under mu before it closes the
	// connection. It also guards out and ctl. Lock order: the service's or
	// a Group's mu, then a session's mu, then the send ticks' held list.
	// No callback runs under mu.
	mu sync.Mutex
	// state is the sessionState and the sending flag (a send is
	// registered); changed only under mu, read anywhere.
	state    atomic.Uint32
	lastRecv atomic.Uint32 // the service's clock tick at the last receive
	// partialSince stamps the start of the message the receive buffer
	// holds part of, for Config.PacketTimeout (see timeouts.go).
	partialSince atomic.Uint32
	out          *sendState // while there is something to send
	ctl          *control   // while a client connects, and from Disconnect on
}

// The bits of Session.state above the sessionState.
const (
	sendingFlag = 1 << 8 // a send is registered
	slowFlag    = 1 << 9 // a slow callback of the session was logged
	// upgradingFlag: the session is connected but its framing's handshake
	// (a WebSocket upgrade) is not done; only framed buffers are sent.
	upgradingFlag = 1 << 10
	stateFlags    = sendingFlag | slowFlag | upgradingFlag
)

// status is the session's sessionState.
func (s *Session) status() sessionState { return sessionState(s.state.Load() &^ stateFlags) }

// setStatus changes the sessionState, keeping the flags; under mu.
func (s *Session) setStatus(st sessionState) {
	s.state.Store(s.state.Load()&stateFlags | uint32(st))
}

// writable reports whether the session's writes still go out: it is
// connected, or draining its queue before it disconnects.
func (s *Session) writable() bool {
	st := s.status()
	return st == stateConnected || st == stateDraining
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

// control holds the connect and disconnect records, which a session needs
// only at its start and its end.
type control struct {
	ev         port.Event
	cause      error       // why the session is draining or disconnecting
	connectErr chan error  // a client Connect waits here
	deadline   *time.Timer // ends a drain that takes too long
}

// sessionOwner receives the session's completions without making Dispatch
// part of Session's API.
type sessionOwner Session

func (o *sessionOwner) Dispatch(ev *port.Event) { (*Session)(o).dispatch(ev) }

func (o *sessionOwner) Gather(*port.Event) [][]byte { return (*Session)(o).gather() }

// newSession makes a session; its handler comes with its Connect
// completion (makeHandler).
func newSession(svc *Service, id uint64) *Session {
	s := &Session{svc: svc, id: id}
	s.recvEv = port.Event{Type: port.Recv, Owner: (*sessionOwner)(s)}
	return s
}

// makeHandler has the service's factory make the session's handler. It
// runs in the session's Connect completion, not where the connection was
// accepted, so that a slow factory holds up no other connection on engines
// that complete each connection on its own goroutine. A factory that
// panics makes no session, unless Config.NoRecover.
func (s *Session) makeHandler() (err error) {
	defer func() {
		if s.svc.cfg.NoRecover {
			return
		}
		if v := recover(); v != nil {
			err = s.svc.panicked(nil, "the session factory", v)
		}
	}()
	if f := s.svc.cfg.NewPacketSession; f != nil {
		s.events = f()
	} else {
		s.events = s.svc.cfg.NewSession()
	}
	return nil
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

// markConnected makes a session that just connected connected, with the
// service's clock tick now as its last receive, and upgrading if its
// framing has a handshake to make; the service calls it under its own mu,
// before its idle checker can see the session.
func (s *Session) markConnected(now uint32, upgrading bool) {
	st := uint32(stateConnected)
	if upgrading {
		st |= upgradingFlag
	}
	s.state.Store(st)
	s.lastRecv.Store(now)
}

// handler is the handler the service's factory made for the session.
func (s *Session) handler() lifecycle {
	if c, ok := s.events.(*wsConn); ok {
		return c.h
	}
	return s.events
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

// RemoteAddr is the peer's address; never nil, it is the zero TCPAddr when
// the peer reset the connection before its address could be learned.
func (s *Session) RemoteAddr() net.Addr { return s.conn().RemoteAddr() }

// Disconnect closes the session with cause (ErrDisconnected if nil); queued
// sends that were not written are dropped (DisconnectAfterSends writes them
// first). OnDisconnected(cause) follows once every operation in flight has
// completed. Disconnect is idempotent and safe from any goroutine, the
// session's own callbacks included.
func (s *Session) Disconnect(cause error) {
	if cause == nil {
		cause = ErrDisconnected
	}
	s.mu.Lock()
	ev := s.closeLocked(cause)
	s.mu.Unlock()
	s.close(ev)
}

// DisconnectAfterSends ends the session once everything queued on it so far
// is written, then disconnects it with cause (ErrDisconnected if nil): a
// kick after an error reply, a goodbye. Meanwhile Send returns
// ErrSessionClosed and received bytes are no longer delivered. If the
// writes take longer than timeout (when positive), the session is cut with
// a cause wrapping ErrSendTimeout and cause. It is safe from any goroutine;
// on a session already ending it does nothing.
func (s *Session) DisconnectAfterSends(cause error, timeout time.Duration) {
	if cause == nil {
		cause = ErrDisconnected
	}
	if c, ok := s.svc.framing.(closingFraming); ok && s.Connected() {
		c.closing(s, cause)
	}
	var ev *port.Event
	s.mu.Lock()
	switch {
	case s.status() != stateConnected:
	case s.out == nil: // nothing to write: close at once
		ev = s.closeLocked(cause)
	default: // the last write's completion closes it (processSend)
		s.setStatus(stateDraining)
		s.ctl = &control{cause: cause}
		if timeout > 0 {
			s.ctl.deadline = time.AfterFunc(timeout, func() { s.cutDrain(fmt.Sprintf("after %v", timeout)) })
		}
	}
	s.mu.Unlock()
	s.close(ev)
}

// cutDrain disconnects a session that is still draining, with a cause
// saying how many bytes were left unsent and when.
func (s *Session) cutDrain(when string) {
	s.mu.Lock()
	var ev *port.Event
	if s.status() == stateDraining {
		unsent := 0
		if s.out != nil {
			unsent = s.out.queued
		}
		ev = s.closeLocked(fmt.Errorf("%w: %d bytes unsent %s: %w", ErrSendTimeout, unsent, when, s.ctl.cause))
	}
	s.mu.Unlock()
	s.close(ev)
}

// closeLocked moves a connected or draining session to disconnecting with
// cause and returns the event its Close completes, or nil if it is
// disconnecting already. Under mu.
func (s *Session) closeLocked(cause error) *port.Event {
	if !s.writable() {
		return nil
	}
	if s.ctl != nil && s.ctl.deadline != nil {
		s.ctl.deadline.Stop()
	}
	s.setStatus(stateDisconnecting)
	s.ctl = &control{ev: port.Event{Type: port.Disconnect, Owner: (*sessionOwner)(s)}, cause: cause}
	return &s.ctl.ev
}

// close closes the connection with the event closeLocked returned, if any.
// Every registration happened under mu while the session was writable, so
// before this.
func (s *Session) close(ev *port.Event) {
	if ev != nil {
		s.conn().Close(ev)
	}
}

func (s *Session) dispatch(ev *port.Event) {
	svc := s.svc
	start, kind := svc.tick.Load(), ev.Type
	switch kind {
	case port.Connect:
		s.processConnect(ev)
	case port.Recv:
		s.processRecv(ev)
	case port.Send:
		s.processSend(ev)
	case port.Disconnect:
		s.processDisconnect()
	}
	if lim := svc.clock.slowTicks; lim > 0 && svc.tick.Load()-start > lim {
		s.slowCallback(kind)
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
	if err := s.makeHandler(); err != nil {
		s.conn().Close(nil)
		s.svc.connectFailed(waiter, err)
		return
	}
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
	if s.svc.framing.open(s, waiter) {
		s.connected(waiter)
	}
	s.registerRecv()
}

// connected tells the handler, and a client's waiting Connect, that the
// session is connected.
func (s *Session) connected(waiter chan<- error) {
	s.onConnected()
	if waiter != nil {
		waiter <- nil
	}
}

func (s *Session) onConnected() {
	defer s.recoverHandler(port.Connect)
	s.events.OnConnected(s)
}

func (s *Session) processDisconnect() {
	s.mu.Lock()
	s.state.Store(uint32(stateDisconnected))
	o, cause := s.out, s.ctl.cause
	s.out, s.ctl = nil, nil
	s.mu.Unlock()
	if o != nil {
		o.drop()
	}
	s.freeRecv()
	// Counted before the handler hears of it, so that Stats agrees with
	// what OnDisconnected has seen.
	s.svc.disconnects.count(cause)
	s.svc.log.disconnected(s, cause)
	s.onDisconnected(cause)
	s.svc.release(s)
}

func (s *Session) onDisconnected(cause error) {
	defer s.recoverHandler(port.Disconnect)
	s.events.OnDisconnected(s, cause)
}
