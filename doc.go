// Package servercore is a library for game servers built on
// completion-based asynchronous I/O, after the C++ IOCP "ServerCore" design.
//
// A Service owns sessions: NewServerService accepts them, NewClientService
// connects them. Each Session is one connection; the service's factory makes
// one handler per session (the GameSession of the original): a Handler sees
// the raw byte stream, a PacketHandler sees whole packets framed as
// [size uint16][id uint16][payload] (see PacketHeader).
//
// Sending goes through SendBuffers: sealed, immutable, reference counted and
// pooled, so one buffer broadcast to many sessions is never copied. All the
// SendBuffers queued on a session go out in one gathered write per round.
//
// Guarantees:
//   - The callbacks of one session never run concurrently and arrive in
//     order: OnConnected first, OnDisconnected exactly once and last.
//   - Session.Send is safe from any goroutine, never blocks, and returns
//     ErrSessionClosed after the session disconnects.
//   - A payload or receive slice is valid only during its callback.
//   - Nothing grows without bound: each session's send queue has a byte
//     limit, the service has a session limit, and a malformed header
//     disconnects only its sender.
//   - Nothing said last is lost: Session.DisconnectAfterSends and
//     Service.Stop write what was queued before they close, until a
//     deadline; Stop then waits for every OnDisconnected and leaves no
//     goroutine or descriptor behind.
//   - A handler that panics ends only its own session, with a *PanicError.
//
// Callbacks run on the engine's goroutines and must not block:
// Config.SlowCallback counts and logs those that do.
//
// The package is the transport. The engines it runs on live under
// internal/port; applications built on it live beside it, each a package of
// its own with its server session and its bot (servercore/examples/echo,
// servercore/examples/broadcast), and reach the transport only through this
// API.
package servercore
