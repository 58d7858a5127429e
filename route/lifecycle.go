package route

import "servercore"

// Lifecycle is the part of a servercore.PacketHandler besides OnRecvPacket.
// The generated session adapters forward these callbacks to the typed
// handler, which embeds servercore.BaseHandler for those it ignores.
type Lifecycle interface {
	OnConnected(s *servercore.Session)
	OnSend(s *servercore.Session, n int)
	OnDisconnected(s *servercore.Session, cause error)
}

var _ Lifecycle = servercore.BaseHandler{}
