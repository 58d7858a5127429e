// Package broadcast is the broadcast application: the server sends every
// packet to every connected session, the sender included, and its bot
// checks that every client gets every client's packets, complete and in
// order.
package broadcast

import "servercore"

// handler is a session of the broadcast server.
type handler struct{ servercore.BaseHandler }

// NewSession returns the handler of one broadcast server session; it is a
// servercore.Config's NewPacketSession.
func NewSession() servercore.PacketHandler { return handler{} }

// OnRecvPacket builds one SendBuffer and shares it with every session of
// the service: the packet is copied once, never per session.
func (handler) OnRecvPacket(s *servercore.Session, id uint16, payload []byte) {
	b := servercore.NewPacket(id, payload)
	s.Service().Broadcast(b)
	b.Release()
}
