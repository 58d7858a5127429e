package servercore

import (
	"fmt"
	"sync"

	"servercore/internal/port"
)

// The send path. Send queues under the session's mu from any goroutine;
// the first Send of a round registers a write (or holds it for the next
// send tick), and the engine gathers everything queued by then right before
// writing. A write's completion releases what it wrote and registers the
// next round if more was queued meanwhile.

// sendState is a session's send side: its queue and the write in flight.
// It is taken from a pool when a session has something to send and
// returned when everything was written.
type sendState struct {
	ev       port.Event
	queued   int           // bytes queued or in flight
	queue    []*SendBuffer // queued by Send, not yet gathered
	inflight []*SendBuffer // gathered into the write in flight
	gathered [][]byte      // the pieces of that write
	iov      [][]byte      // what is left of gathered to write
	left     int           // bytes of the write in flight not yet written
	// heads and masked hold what a framing writes around the SendBuffers
	// of the write in flight: frame headers, a client's masked copies.
	heads, masked []byte
	// queuedAt and inflightAt stamp (see timeouts.go) when the oldest of
	// queue and of inflight was queued, for Config.SendQueueMaxAge.
	queuedAt, inflightAt uint32
}

// oldestUnsent is the stamp of the oldest byte not yet written, or 0;
// under the session's mu.
func (o *sendState) oldestUnsent() uint32 {
	if o.inflightAt != 0 {
		return o.inflightAt
	}
	return o.queuedAt
}

var sendStatePool = sync.Pool{New: func() any { return new(sendState) }}

// drop releases what o still queues and returns it to the pool; the
// session has disconnected, so nothing of it is written.
func (o *sendState) drop() {
	for i, b := range o.queue {
		b.Release()
		o.queue[i] = nil
	}
	o.queue, o.queued = o.queue[:0], 0
	o.queuedAt, o.inflightAt = 0, 0
	sendStatePool.Put(o)
}

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

// SendPacket sends one packet made of id and payload. A payload that would
// make a packet above MaxPacketSize is ErrPacketTooLarge.
func (s *Session) SendPacket(id uint16, payload []byte) error {
	if HeaderSize+len(payload) > MaxPacketSize {
		return fmt.Errorf("%w: a %d-byte payload makes a packet above %d bytes", ErrPacketTooLarge, len(payload), MaxPacketSize)
	}
	b := NewPacket(id, payload)
	err := s.Send(b)
	b.Release()
	return err
}

// sendRetained is Send of a sealed buffer for which the caller already took
// the session's reference; on error the reference is still the caller's.
func (s *Session) sendRetained(b *SendBuffer) error {
	n := len(b.data)
	s.mu.Lock()
	if st := s.state.Load(); sessionState(st&^stateFlags) != stateConnected || (st&upgradingFlag != 0 && !b.framed) {
		s.mu.Unlock()
		if st&upgradingFlag != 0 {
			return errUpgrading
		}
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
	if len(s.out.queue) == 0 && s.svc.cfg.SendQueueMaxAge > 0 {
		s.out.queuedAt = s.svc.stamp()
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

// sendFramed sends p, bytes of the framing's own, as they are.
func (s *Session) sendFramed(p []byte) {
	b := OpenSendBuffer(len(p))
	copy(b.Buffer(), p)
	b.Seal(len(p))
	b.framed = true
	s.Send(b) // fails only on a session already ending
	b.Release()
}

// sendToAll sends b to every session of set but except (nil: none),
// taking all the sessions' references with one atomic add instead of one
// per session, and returns how many queued it. The caller keeps its own
// reference, and holds the lock that guards set.
func sendToAll(b *SendBuffer, set map[*Session]struct{}, except *Session) int {
	n := len(set)
	if !b.sealed || n == 0 {
		return 0
	}
	b.refs.Add(int32(n))
	sent := 0
	for s := range set {
		if s != except && s.sendRetained(b) == nil {
			sent++
		}
	}
	if unused := n - sent; unused > 0 {
		b.refs.Add(-int32(unused)) // the caller's reference keeps refs above zero
	}
	return sent
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
	if s.writable() && s.sending() {
		s.conn().Send(&s.out.ev)
	}
	s.mu.Unlock()
}

// gather moves the queue to the write in flight and returns the pieces of
// that write, or what a partial write left of them. The engine calls it
// right before writing, so everything queued by then goes out in one write.
func (s *Session) gather() [][]byte {
	s.mu.Lock()
	o := s.out
	if o.left > 0 {
		s.mu.Unlock()
		return o.iov
	}
	o.inflight, o.queue = o.queue, o.inflight[:0]
	o.inflightAt, o.queuedAt = o.queuedAt, 0
	s.mu.Unlock()
	g := s.svc.framing.appendWrite(o.gathered[:0], o)
	for _, p := range g {
		o.left += len(p)
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
		if s.writable() {
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
		s.Disconnect(networkCause(ev.Err))
		return
	}
	t := s.svc.traffic.of(s.id)
	t.packetsOut.Add(uint64(count))
	t.bytesOut.Add(uint64(written))
	var closeEv *port.Event
	s.mu.Lock()
	o.queued -= written
	o.inflightAt = 0
	more := len(o.queue) > 0 && s.writable()
	s.setSending(more)
	if more {
		s.startWrite(ev)
	} else if len(o.queue) == 0 {
		s.out = nil
		sendStatePool.Put(o)
		if s.status() == stateDraining { // everything is written
			closeEv = s.closeLocked(s.ctl.cause)
		}
	}
	s.mu.Unlock()
	s.onSend(written)
	s.close(closeEv)
}

func (s *Session) onSend(n int) {
	defer s.recoverHandler(port.Send)
	s.events.OnSend(s, n)
}

// sendQueued is the bytes queued or being written on the session now.
func (s *Session) sendQueued() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.out == nil {
		return 0
	}
	return s.out.queued
}
