package servercore

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"
)

// rareLog writes what an operator should see — handler panics, protocol
// errors, slow readers, refused connections, failed accepts — to the
// service's Logger, at most one line a second of each kind, each saying how
// many of its kind were held back since the last. A flood (a port scan, the
// open-files limit, a misbehaving client fleet) then costs a line a second,
// not a line an event.
type rareLog struct {
	logger *slog.Logger
	mu     sync.Mutex
	kinds  [logKinds]struct {
		last time.Time
		held int
	}
}

// The kinds of line rareLog limits, each on its own.
const (
	logPanic = iota
	logProtocol
	logSlowReader
	logRefused
	logAcceptFailed
	logSlowCallback
	logKinds
)

// allow reports whether a line of kind may be written now, and how many
// were held back before it.
func (l *rareLog) allow(kind int) (held int, ok bool) {
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	k := &l.kinds[kind]
	if !k.last.IsZero() && now.Sub(k.last) < time.Second {
		k.held++
		return 0, false
	}
	held, k.held, k.last = k.held, 0, now
	return held, true
}

func (l *rareLog) panicked(s *Session, err *PanicError) {
	held, ok := l.allow(logPanic)
	if !ok {
		return
	}
	args := []any{"callback", err.Callback, "panic", err.Value, "held_back", held, "stack", string(err.Stack)}
	if s != nil {
		args = append(args, "session", s.ID())
	}
	l.logger.Error("servercore: handler panicked; its session is disconnected", args...)
}

func (l *rareLog) acceptFailed(err error) {
	if held, ok := l.allow(logAcceptFailed); ok {
		l.logger.Warn("servercore: accept failed", "err", err, "held_back", held)
	}
}

func (l *rareLog) refused(addr net.Addr, limit int) {
	if held, ok := l.allow(logRefused); ok {
		l.logger.Warn("servercore: connection refused at the session limit", "remote", addr, "max_sessions", limit, "held_back", held)
	}
}

// disconnected logs a session that ended with a cause of its peer's doing
// that its operator should know of.
func (l *rareLog) disconnected(s *Session, cause error) {
	kind, msg := -1, ""
	switch {
	case errors.Is(cause, ErrProtocol), errors.Is(cause, ErrPacketTimeout):
		kind, msg = logProtocol, "servercore: session cut for a protocol error"
	case errors.Is(cause, ErrSendQueueFull):
		kind, msg = logSlowReader, "servercore: session cut for reading too slowly"
	}
	if kind < 0 {
		return
	}
	if held, ok := l.allow(kind); ok {
		l.logger.Warn(msg, "session", s.ID(), "remote", s.RemoteAddr(), "cause", cause, "held_back", held)
	}
}

// slow logs a callback that blocked its engine longer than threshold.
func (l *rareLog) slow(s *Session, callback string, threshold time.Duration) {
	if held, ok := l.allow(logSlowCallback); ok {
		l.logger.Warn("servercore: a callback ran longer than Config.SlowCallback; callbacks must not block",
			"session", s.ID(), "handler", fmt.Sprintf("%T", s.handler()), "callback", callback, "threshold", threshold, "held_back", held)
	}
}
