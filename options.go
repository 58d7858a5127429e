package servercore

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Defaults for the zero values of Config.
const (
	DefaultMaxSessions    = 10000
	DefaultSendQueueLimit = 1 << 20
	DefaultRecvBufferSize = 4096
	DefaultIdleTimeout    = 60 * time.Second
	DefaultPacketTimeout  = 10 * time.Second
	DefaultSlowCallback   = 100 * time.Millisecond
)

// Config configures a Service. Exactly one of NewSession and NewPacketSession
// must be set; zero values of the limits take the defaults documented on each.
type Config struct {
	// NewSession makes the handler of a raw session, which sees the byte
	// stream through OnRecv.
	NewSession func() Handler
	// NewPacketSession makes the handler of a packet session, which sees
	// whole packets through OnRecvPacket.
	NewPacketSession func() PacketHandler

	// Backend chooses the engine: "auto" (the default), "std", "uring" or
	// "iocp". Auto picks the best engine available on this system.
	Backend string
	// IOThreads is how many threads the engine completes I/O on: the uring
	// engine's loops, each a ring on a thread of its own, or the iocp
	// engine's workers (default GOMAXPROCS). The std engine, a goroutine
	// per connection, ignores it. Fewer threads than cores leave cores to
	// the game and gather more completions per wake-up.
	IOThreads int
	// MaxSessions bounds the sessions alive at once (default
	// DefaultMaxSessions). A server closes further connections at once; a
	// client's Connect returns ErrMaxSessions.
	MaxSessions int
	// MaxPacketSize is the largest packet accepted, header included
	// (default and upper bound MaxPacketSize). A larger size in a header
	// disconnects the session with ErrProtocol.
	MaxPacketSize int
	// SendQueueLimit bounds the bytes a session has queued and not yet
	// written (default DefaultSendQueueLimit). A Send beyond it disconnects
	// the session with ErrSendQueueFull.
	SendQueueLimit int
	// SendInterval, when positive, holds each session's writes to one per
	// interval: what it queues meanwhile goes out together in the next
	// write. Fewer, fuller writes cost the server and its peers less CPU
	// per packet, most of all when broadcasting, for up to SendInterval of
	// added latency. Zero (the default) writes as soon as the engine can.
	SendInterval time.Duration
	// IdleTimeout disconnects a session, with ErrIdleTimeout, that received
	// no byte for this long (default DefaultIdleTimeout; negative disables
	// it). It also ends a peer that sent part of a packet and stalled. It is
	// checked every eighth of the timeout, so a session may live up to 1.25
	// times as long.
	IdleTimeout time.Duration
	// PacketTimeout is how long a packet begun may take to arrive whole
	// (default DefaultPacketTimeout; negative disables it). A peer that
	// trickles a packet, or speaks another protocol to the game port, is
	// cut with ErrPacketTimeout; each byte still resets the idle timeout.
	PacketTimeout time.Duration
	// SendQueueMaxAge, when positive, cuts a session whose oldest unsent
	// byte has waited longer than this, with ErrSendQueueFull: a player
	// that stopped reading at game rates is dropped instead of being sent
	// stale state until the byte limit fills. Zero (the default) disables
	// it. Both timeouts are checked like IdleTimeout, every eighth of the
	// shortest, so a session may live up to 1.25 times as long.
	SendQueueMaxAge time.Duration
	// SlowCallback is how long one completion's callbacks may run before
	// they are counted (Stats.SlowCallbacks) and, the first time for a
	// session, logged with the handler's type (default
	// DefaultSlowCallback; negative disables it). Callbacks must not block:
	// on the uring engine every session of the loop waits meanwhile, on
	// iocp one of the workers is taken, on std only the session itself.
	// It is measured on the service's coarse clock, to about a quarter of
	// it.
	SlowCallback time.Duration
	// RecvBufferSize is the starting size of each session's receive buffer
	// (default DefaultRecvBufferSize). It grows as packets need, up to
	// MaxPacketSize plus this size.
	RecvBufferSize int
	// Logger receives what an operator should see: the engine chosen or
	// fallen back from, handler panics, protocol errors, slow readers cut,
	// refused connections and failed accepts, each kind at most once a
	// second (default slog.Default(); slog.New(slog.DiscardHandler)
	// silences it).
	Logger *slog.Logger
	// WebSocketOrigins lists the browser origins a WebSocket server
	// accepts: each a host, a host:port or "*". Empty, an Origin is
	// accepted only if its host:port is the request's Host. A request
	// without Origin (not from a browser) is always accepted.
	WebSocketOrigins []string
	// TLS is the TLS configuration of a wss:// service: a server's
	// certificate (required), a client's roots and server name (default:
	// the system's roots and the target's host). TLS runs on the std
	// engine: a wss:// service with Backend "auto" uses it, and with
	// another engine NewServerService returns ErrBackendUnavailable;
	// terminate TLS in front of the server to use uring or iocp.
	TLS *tls.Config
	// NoRecover lets a panic in a handler's callback or the session
	// factory crash the process. By default the panic is recovered: its
	// session is disconnected with a *PanicError (matching
	// ErrHandlerPanic) that carries the value and the stack, and it is
	// logged and counted.
	NoRecover bool
}

// withDefaults validates c and fills in its zero values.
func (c Config) withDefaults() (Config, error) {
	if (c.NewSession == nil) == (c.NewPacketSession == nil) {
		return c, errors.New("servercore: Config needs exactly one of NewSession and NewPacketSession")
	}
	if c.Backend == "" {
		c.Backend = "auto"
	}
	if c.MaxSessions == 0 {
		c.MaxSessions = DefaultMaxSessions
	}
	if c.MaxPacketSize == 0 {
		c.MaxPacketSize = MaxPacketSize
	}
	if c.SendQueueLimit == 0 {
		c.SendQueueLimit = DefaultSendQueueLimit
	}
	if c.IdleTimeout == 0 {
		c.IdleTimeout = DefaultIdleTimeout
	}
	if c.PacketTimeout == 0 {
		c.PacketTimeout = DefaultPacketTimeout
	}
	if c.SlowCallback == 0 {
		c.SlowCallback = DefaultSlowCallback
	}
	if c.RecvBufferSize == 0 {
		c.RecvBufferSize = DefaultRecvBufferSize
	}
	switch {
	case c.MaxSessions < 0:
		return c, fmt.Errorf("servercore: MaxSessions %d is negative", c.MaxSessions)
	case c.MaxPacketSize < HeaderSize || c.MaxPacketSize > MaxPacketSize:
		return c, fmt.Errorf("servercore: MaxPacketSize %d is outside %d..%d", c.MaxPacketSize, HeaderSize, MaxPacketSize)
	case c.SendQueueLimit < 0:
		return c, fmt.Errorf("servercore: SendQueueLimit %d is negative", c.SendQueueLimit)
	case c.RecvBufferSize < 0:
		return c, fmt.Errorf("servercore: RecvBufferSize %d is negative", c.RecvBufferSize)
	case c.SendQueueMaxAge < 0:
		return c, fmt.Errorf("servercore: SendQueueMaxAge %v is negative", c.SendQueueMaxAge)
	case c.SendInterval < 0:
		return c, fmt.Errorf("servercore: SendInterval %v is negative", c.SendInterval)
	case c.IOThreads < 0:
		return c, fmt.Errorf("servercore: IOThreads %d is negative", c.IOThreads)
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c, nil
}
