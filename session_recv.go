package servercore

import (
	"fmt"

	"servercore/internal/port"
)

// The receive path. It runs only in the session's completion context (its
// Connect and Recv completions, one at a time), so recv and recvNeed need
// no lock; it takes mu only to register the next receive. Two kinds of
// engine feed it: those that receive into the session's receive buffer
// (std, iocp), and those that receive into memory of their own and hand
// over the bytes (uring), where the session keeps a buffer only while it
// holds part of a message.

// registerRecv prepares the receive buffer and registers a receive, unless
// the session is disconnecting.
func (s *Session) registerRecv() {
	if !s.svc.engineRecvMemory {
		lim := &s.svc.recvLimits
		if s.recv == nil {
			s.newRecv()
		}
		s.recv.clean(lim)
		if s.recv.Free() == 0 && !s.growRecv() {
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
		s.Disconnect(networkCause(ev.Err))
		return
	case ev.N == 0:
		if s.status() != stateDraining { // else its writes still go out
			s.Disconnect(ErrPeerClosed)
		}
		return
	}
	s.touch()
	s.svc.traffic.of(s.id).bytesIn.Add(uint64(ev.N))
	var err error
	if s.svc.engineRecvMemory {
		err = s.deliverData(data)
	} else {
		n := int(ev.N)
		filled := n == s.recv.Free()
		if !s.recv.OnWrite(n) {
			err = fmt.Errorf("%w: %d bytes written into %d free", ErrRecvOverflow, n, s.recv.Free())
		} else if err = s.deliverBuffered(); err == nil && filled {
			s.growRecv() // the stream outpaces the buffer
		}
	}
	if err != nil {
		s.Disconnect(err)
		return
	}
	s.registerRecv()
}

// deliverData handles bytes received into the engine's memory. While part
// of a message is buffered it moves only what completes that message into
// the receive buffer; everything else is delivered in place, and only an
// incomplete tail is kept. The receive buffer exists only while it holds
// bytes, so that an idle session holds no receive memory.
func (s *Session) deliverData(data []byte) error {
	for len(data) > 0 && s.Connected() {
		if s.recv == nil {
			n, err := s.deliver(data)
			if err != nil || !s.Connected() || n == len(data) {
				return err
			}
			s.newRecv()
			if !s.writeRecv(data[n:]) {
				return fmt.Errorf("%w: %d unconsumed bytes", ErrRecvOverflow, len(data)-n)
			}
			return nil
		}
		take := len(data)
		if s.recvNeed > 0 {
			take = min(take, int(s.recvNeed)-s.recv.Len())
		}
		if !s.writeRecv(data[:take]) {
			return fmt.Errorf("%w: %d unread bytes and %d more", ErrRecvOverflow, s.recv.Len(), take)
		}
		data = data[take:]
		if err := s.deliverBuffered(); err != nil {
			return err
		}
		if s.recv.Len() == 0 {
			s.freeRecv()
		}
	}
	return nil
}

// deliverBuffered hands the receive buffer's bytes to the framing and
// consumes what it took. Room for an incomplete message is made as its
// bytes arrive, never by the size its header announces, so that a peer
// that announces large packets and sends little holds little memory.
func (s *Session) deliverBuffered() error {
	n, err := s.deliver(s.recv.Bytes())
	s.recv.OnRead(n)
	return err
}

// deliver hands data to the service's framing, counts the messages it
// delivered and keeps what it says the next one needs.
func (s *Session) deliver(data []byte) (int, error) {
	defer s.recoverHandler(port.Recv)
	n, msgs, need, err := s.svc.framing.deliver(s, data)
	if s.svc.cfg.PacketTimeout > 0 {
		s.stampPartial(n, len(data))
	}
	if msgs > 0 {
		s.svc.traffic.of(s.id).packetsIn.Add(uint64(msgs))
	}
	s.recvNeed = int32(need)
	return n, err
}

// newRecv gives the session a receive buffer.
func (s *Session) newRecv() {
	s.recv = newRecvBuf(&s.svc.recvLimits)
	s.countRecv(s.recv.Cap())
}

// growRecv grows the receive buffer, within its limit, and reports whether
// it could.
func (s *Session) growRecv() bool {
	c := s.recv.Cap()
	ok := s.recv.grow(&s.svc.recvLimits)
	s.countRecv(s.recv.Cap() - c)
	return ok
}

// writeRecv appends p to the receive buffer, which grows if it must, and
// reports false if the unread bytes would exceed its limit.
func (s *Session) writeRecv(p []byte) bool {
	c := s.recv.Cap()
	ok := s.recv.write(p, &s.svc.recvLimits)
	s.countRecv(s.recv.Cap() - c)
	return ok
}

// freeRecv gives the receive buffer back.
func (s *Session) freeRecv() {
	if s.recv != nil {
		s.countRecv(-s.recv.Cap())
		s.recv.release()
		s.recv = nil
	}
}

// countRecv counts delta bytes more of receive memory held. Only the
// buffer's allocation, growth and release count, never a packet, so that
// Stats can read the memory held without touching the buffers, which
// belong to the sessions' completion contexts.
func (s *Session) countRecv(delta int) {
	if delta != 0 {
		s.svc.traffic.of(s.id).recvHeld.Add(int64(delta))
	}
}

// networkCause is the disconnect cause of a failed receive or send: the
// engine's error, which names the operation, wrapped in ErrPeerClosed when
// it says the peer reset the connection or vanished.
func networkCause(err error) error {
	if port.PeerGone(err) {
		return fmt.Errorf("%w: %w", ErrPeerClosed, err)
	}
	return err
}
