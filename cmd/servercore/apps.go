package main

import "servercore"

// echoApp is the "echo" server application: every packet goes back to its
// sender unchanged, same id and same payload.
type echoApp struct{ servercore.BaseHandler }

// OnRecvPacket sends the packet back. The payload is valid only during the
// call, so it is copied once, into the reply's SendBuffer.
func (echoApp) OnRecvPacket(s *servercore.Session, id uint16, payload []byte) {
	// An error means the session is closing (or its send queue overflowed,
	// which disconnects it); OnDisconnected tells the rest.
	_ = s.SendPacket(id, payload)
}

// broadcastApp is the "broadcast" server application: every packet goes to
// every connected session of the service, the sender included.
type broadcastApp struct{ servercore.BaseHandler }

// OnRecvPacket builds one SendBuffer and shares it with every session: the
// packet is copied once, never per session.
func (broadcastApp) OnRecvPacket(s *servercore.Session, id uint16, payload []byte) {
	b := servercore.NewPacket(id, payload)
	s.Service().Broadcast(b)
	b.Release()
}

// newApp returns the session factory of a named application, or nil.
func newApp(name string) func() servercore.PacketHandler {
	switch name {
	case "echo":
		return func() servercore.PacketHandler { return echoApp{} }
	case "broadcast":
		return func() servercore.PacketHandler { return broadcastApp{} }
	}
	return nil
}
