// Package typedecho is the typed echo: a server that answers each C_Echo
// with an S_Echo carrying the same bytes, through the code
// protoc-gen-servercore generates from echopb/echo.proto.
package typedecho

import (
	"servercore"
	"servercore/examples/typedecho/echopb"
)

// Session handles one session of the typed echo server.
type Session struct {
	servercore.BaseHandler
	// reply is reused for every answer: a session's callbacks never run
	// concurrently, and the reply is encoded before SendS_Echo returns.
	reply echopb.S_Echo
}

// NewSession returns the handler of one session, for
// servercore.Config.NewPacketSession. Its C_Echo is decoded into the same
// message every time: HandleC_Echo keeps nothing past its return.
func NewSession() servercore.PacketHandler {
	return echopb.ServerPacketHandlerReusing(new(Session))
}

// HandleC_Echo answers m with an S_Echo of the same payload.
func (e *Session) HandleC_Echo(s *servercore.Session, m *echopb.C_Echo) error {
	e.reply.Payload = m.Payload
	err := echopb.SendS_Echo(s, &e.reply)
	e.reply.Payload = nil
	return err
}
