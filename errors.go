package servercore

import "errors"

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
	// connection cleanly.
	ErrPeerClosed = errors.New("servercore: peer closed the connection")
	// ErrProtocol is the disconnect cause of a malformed packet header: a
	// size below the header size or above the configured maximum.
	ErrProtocol = errors.New("servercore: protocol error")
	// ErrSendQueueFull is the disconnect cause, and the error of the Send
	// that caused it, when a session's unsent bytes would exceed its
	// send-queue limit: the peer does not read fast enough.
	ErrSendQueueFull = errors.New("servercore: send queue limit exceeded")
	// ErrIdleTimeout is the disconnect cause when no byte was received for
	// the configured idle timeout.
	ErrIdleTimeout = errors.New("servercore: idle timeout")
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
)
