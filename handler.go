package servercore

// Handler receives the events of one raw session, which sees the byte stream
// as it arrives. The service's factory makes one Handler per session; its
// callbacks never run concurrently with each other, run in order
// (OnConnected first, OnDisconnected exactly once and last) and must not
// block.
type Handler interface {
	// OnConnected runs once the session is connected.
	OnConnected(s *Session)
	// OnRecv gets the unread bytes and returns how many it consumed; the
	// rest is offered again, after more bytes arrive. The slice is valid
	// only during the call.
	OnRecv(s *Session, data []byte) (consumed int)
	// OnSend runs after a gathered write of n bytes completed.
	OnSend(s *Session, n int)
	// OnDisconnected runs once, last, with the reason the session ended.
	OnDisconnected(s *Session, cause error)
}

// PacketHandler receives the events of one packet session, which cuts the
// byte stream into packets (see PacketHeader). Its callbacks keep the same
// guarantees as Handler's.
type PacketHandler interface {
	// OnConnected runs once the session is connected.
	OnConnected(s *Session)
	// OnRecvPacket runs once per whole packet, in arrival order. The
	// payload is valid only during the call.
	OnRecvPacket(s *Session, id uint16, payload []byte)
	// OnSend runs after a gathered write of n bytes completed.
	OnSend(s *Session, n int)
	// OnDisconnected runs once, last, with the reason the session ended.
	OnDisconnected(s *Session, cause error)
}

// BaseHandler has no-op OnConnected, OnSend and OnDisconnected methods; embed
// it in a handler that needs only some of them.
type BaseHandler struct{}

// OnConnected does nothing.
func (BaseHandler) OnConnected(*Session) {}

// OnSend does nothing.
func (BaseHandler) OnSend(*Session, int) {}

// OnDisconnected does nothing.
func (BaseHandler) OnDisconnected(*Session, error) {}

// lifecycle is what Handler and PacketHandler share.
type lifecycle interface {
	OnConnected(s *Session)
	OnSend(s *Session, n int)
	OnDisconnected(s *Session, cause error)
}
