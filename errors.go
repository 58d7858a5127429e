package servercore

import (
	"errors"
	"fmt"
)

// Errors a session or service reports. A session's disconnect cause wraps one
// of these (or the network error that ended it), so callers test it with
// errors.Is.
var (
	// ErrSessionClosed is returned by Send on a session that is
	// disconnecting or disconnected.
	ErrSessionClosed = errors.New("servercore: session closed")
	// ErrServiceClosed is returned by a service that was stopped, and is the
	// disconnect cause of every session Stop closes.
	ErrServiceClosed = errors.New("servercore: service closed")
	// ErrPeerClosed is the disconnect cause when the peer closed the
	// connection, cleanly or by a reset; after a reset or a write to a
	// vanished peer the cause also wraps the network error.
	ErrPeerClosed = errors.New("servercore: peer closed the connection")
	// ErrProtocol is the disconnect cause of a malformed packet header: a
	// size below the header size or above the configured maximum.
	ErrProtocol = errors.New("servercore: protocol error")
	// ErrSendQueueFull is the disconnect cause, and the error of the Send
	// that caused it, when a session's unsent bytes would exceed its
	// send-queue limit, or its oldest unsent byte is older than
	// Config.SendQueueMaxAge: the peer does not read fast enough.
	ErrSendQueueFull = errors.New("servercore: send queue limit exceeded")
	// ErrIdleTimeout is the disconnect cause when no byte was received for
	// the configured idle timeout.
	ErrIdleTimeout = errors.New("servercore: idle timeout")
	// ErrPacketTimeout is the disconnect cause when a packet begun was not
	// complete within Config.PacketTimeout: a peer that trickles it, or
	// speaks another protocol (an HTTP request read as a packet header).
	ErrPacketTimeout = errors.New("servercore: packet not completed in time")
	// ErrRecvOverflow is the disconnect cause when a raw handler's OnRecv
	// returns a count outside the bytes it was given, or leaves the receive
	// buffer full without consuming anything.
	ErrRecvOverflow = errors.New("servercore: receive buffer overflow")
	// ErrMaxSessions is returned by a client service's Connect when the
	// session limit is reached. A server refuses such connections by
	// closing them at once.
	ErrMaxSessions = errors.New("servercore: session limit reached")
	// ErrConnect wraps the error of a connection attempt that failed.
	ErrConnect = errors.New("servercore: connect failed")
	// ErrDisconnected is the cause given to OnDisconnected when Disconnect
	// was called with a nil cause.
	ErrDisconnected = errors.New("servercore: disconnected locally")
	// ErrBackendUnavailable is returned when the requested backend cannot
	// run on this system.
	ErrBackendUnavailable = errors.New("servercore: backend unavailable")
	// ErrNotSealed is returned by Send for a SendBuffer that was not sealed.
	ErrNotSealed = errors.New("servercore: send buffer not sealed")
	// ErrPacketTooLarge is returned by SendPacket for a payload that would
	// make a packet above MaxPacketSize.
	ErrPacketTooLarge = errors.New("servercore: packet too large")
	// ErrSendTimeout is the disconnect cause of a session cut before its
	// queued sends were written: by the timeout of DisconnectAfterSends, or
	// by the end of Stop's context. It wraps the cause the session would
	// have ended with.
	ErrSendTimeout = errors.New("servercore: queued sends not written in time")
	// ErrHandlerPanic is matched by the disconnect cause of a session whose
	// handler panicked; the cause is a *PanicError.
	ErrHandlerPanic = errors.New("servercore: handler panicked")
	// ErrStopInCallback is returned by a Stop called from a session's
	// callback: the service stops, but Stop cannot wait there for the
	// session whose callback it runs in.
	ErrStopInCallback = errors.New("servercore: Stop called from a session's callback cannot wait")
)

// PanicError is the disconnect cause of a session whose handler panicked:
// which callback, the value it panicked with, and the stack at the panic.
type PanicError struct {
	Callback string // "OnRecvPacket", "OnConnected", ...
	Value    any
	Stack    []byte
}

func (e *PanicError) Error() string {
	return fmt.Sprintf("servercore: %s panicked: %v", e.Callback, e.Value)
}

// Is makes errors.Is(err, ErrHandlerPanic) hold.
func (e *PanicError) Is(target error) bool { return target == ErrHandlerPanic }

// Unwrap returns the value the handler panicked with, if it is an error.
func (e *PanicError) Unwrap() error {
	err, _ := e.Value.(error)
	return err
}
