package servercore

import (
	"bytes"
	"reflect"
	"runtime"
	"runtime/debug"

	"servercore/internal/port"
)

// What the session does around its handler's callbacks: it recovers their
// panics, reports the slow ones, and tells Stop when it is called from one.

// dispatchFrame is how a session's completions, and so every callback of
// its handler, appear in a goroutine's stack trace.
var dispatchFrame = []byte(runtime.FuncForPC(reflect.ValueOf((*sessionOwner).Dispatch).Pointer()).Name() + "(")

// inCallback reports whether the calling goroutine runs a session's
// callback. Go gives a goroutine no identity to compare, so it reads the
// goroutine's own stack: slow, and only for calls as rare as Stop.
func inCallback() bool {
	buf := make([]byte, 16<<10)
	for {
		n := runtime.Stack(buf, false)
		if n < len(buf) {
			return bytes.Contains(buf[:n], dispatchFrame)
		}
		buf = make([]byte, 2*len(buf))
	}
}

// callbackName names the handler's callback that a completion of kind
// runs.
func (s *Session) callbackName(kind port.EventType) string {
	switch kind {
	case port.Connect:
		return "OnConnected"
	case port.Send:
		return "OnSend"
	case port.Disconnect:
		return "OnDisconnected"
	}
	if s.svc.cfg.NewPacketSession != nil {
		return "OnRecvPacket"
	}
	return "OnRecv"
}

// recoverHandler ends the session with a *PanicError when the handler's
// callback for a completion of kind, which it is deferred around,
// panicked, unless Config.NoRecover lets the panic go on.
func (s *Session) recoverHandler(kind port.EventType) {
	if s.svc.cfg.NoRecover {
		return
	}
	if v := recover(); v != nil {
		s.Disconnect(s.svc.panicked(s, s.callbackName(kind), v))
	}
}

// panicked counts and logs a panic recovered in callback, of session s
// (nil for the session factory), and returns it as a disconnect cause.
func (svc *Service) panicked(s *Session, callback string, v any) *PanicError {
	err := &PanicError{Callback: callback, Value: v, Stack: debug.Stack()}
	svc.panics.Add(1)
	svc.log.panicked(s, err)
	return err
}

// slowCallback counts a completion whose callbacks ran longer than
// Config.SlowCallback, as the service's clock measured it, and logs the
// first of the session's.
func (s *Session) slowCallback(kind port.EventType) {
	s.svc.slowCallbacks.Add(1)
	s.mu.Lock()
	first := s.state.Load()&slowFlag == 0
	s.state.Store(s.state.Load() | slowFlag)
	s.mu.Unlock()
	if first {
		s.svc.log.slow(s, s.callbackName(kind), s.svc.cfg.SlowCallback)
	}
}
