package servercore

import "fmt"

// framing is the one place that knows how a service's byte stream is cut
// into messages and what goes on the wire around the SendBuffers it sends.
// The session's receive path hands it the unread bytes; its send path asks
// it for the pieces of each gathered write. The raw stream and the packet
// framing implement it; another framing (WebSocket frames, say) is a third
// implementation, not a branch in either path.
//
// A framing is shared by every session of its service. A session's own
// framing state lives in the session: unread bytes in its receive buffer,
// and bytes a framing writes around a SendBuffer (a frame header) in its
// send state, as one more piece of the gathered write, so that a shared
// SendBuffer is never copied.
type framing interface {
	// deliver hands the whole messages at the front of data to s's handler
	// while s stays connected. It returns the bytes consumed, how many
	// messages it delivered, and need: the size in all of the message left
	// incomplete at the front of data[n:], as far as it is known (at least
	// one byte more than is there), or 0 if any number of bytes may come.
	deliver(s *Session, data []byte) (n, msgs, need int, err error)
	// appendWrite appends to iov the pieces of one gathered write of bufs,
	// the SendBuffers in o.inflight, and returns it.
	appendWrite(iov [][]byte, o *sendState) [][]byte
	// open starts the framing of a session just admitted, with the channel
	// a client's Connect waits on (nil on a server). It returns true if the
	// session is connected now; otherwise the framing connects it later
	// (Session.connected), after a handshake of its own.
	open(s *Session, waiter chan<- error) bool
}

// A framing may also implement these.
type (
	// closingFraming is told, before a connected session starts to drain
	// (DisconnectAfterSends, Stop), why it ends, and may queue a goodbye
	// of its own first. It is called from any goroutine.
	closingFraming interface{ closing(s *Session, cause error) }
	// idleFraming is told, from the service's clock, about a session that
	// received nothing for half its idle timeout, and may probe its peer.
	idleFraming interface{ idle(s *Session) }
)

// newFraming returns the framing of a service configured with cfg, whose
// address is the WebSocket address ws if it is not nil.
func newFraming(cfg *Config, ws *wsAddress, client bool) framing {
	switch {
	case ws != nil:
		return newWebSocket(cfg, *ws, client)
	case cfg.NewPacketSession != nil:
		return packetFraming{maxSize: cfg.MaxPacketSize}
	}
	return rawStream{}
}

// rawStream hands a raw Handler the bytes as they arrive and writes
// SendBuffers as they are.
type rawStream struct{ plainStream }

func (rawStream) deliver(s *Session, data []byte) (n, msgs, need int, err error) {
	if !s.Connected() {
		return 0, 0, 0, nil
	}
	n = s.events.(Handler).OnRecv(s, data)
	if n < 0 || n > len(data) {
		return 0, 0, 0, fmt.Errorf("%w: OnRecv consumed %d of %d bytes", ErrRecvOverflow, n, len(data))
	}
	return n, 0, 0, nil
}

// packetFraming cuts the stream into packets (see PacketHeader) for a
// PacketHandler. A SendBuffer already holds whole packets, so it is written
// as it is.
type packetFraming struct {
	plainStream
	maxSize int // Config.MaxPacketSize
}

func (f packetFraming) deliver(s *Session, data []byte) (n, msgs, need int, err error) {
	h := s.events.(PacketHandler)
	for s.Connected() {
		id, payload, size, whole, err := NextPacket(data[n:], f.maxSize)
		if size == 0 {
			if err == nil && whole == 0 && n < len(data) {
				whole = HeaderSize // a header cut short needs the rest of itself
			}
			return n, msgs, whole, err
		}
		msgs++
		h.OnRecvPacket(s, id, payload)
		n += size
	}
	return n, msgs, 0, nil
}

// plainStream is a stream with no handshake that writes each SendBuffer's
// bytes as they are, nothing around them.
type plainStream struct{}

func (plainStream) open(*Session, chan<- error) bool { return true }

func (plainStream) appendWrite(iov [][]byte, o *sendState) [][]byte {
	for _, b := range o.inflight {
		iov = append(iov, b.data)
	}
	return iov
}
