// Package echo is the echo application: the server sends every packet back
// to its sender unchanged, and its bot keeps packets in flight and checks
// that each comes back byte for byte, in order.
package echo

import "servercore"

// handler is a session of the echo server.
type handler struct{ servercore.BaseHandler }

// NewSession returns the handler of one echo server session; it is a
// servercore.Config's NewPacketSession.
func NewSession() servercore.PacketHandler { return handler{} }

// OnRecvPacket sends the packet back, same id and same payload. The payload
// is valid only during the call, so it is copied once, into the reply's
// SendBuffer.
func (handler) OnRecvPacket(s *servercore.Session, id uint16, payload []byte) {
	// An error means the session is closing (or its send queue overflowed,
	// which disconnects it); OnDisconnected tells the rest.
	_ = s.SendPacket(id, payload)
}
