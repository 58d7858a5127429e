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

// The callbacks a handler's panic is reported in.
const (
	callbackConnected = iota
	callbackRecv
	callbackSend
	callbackDisconnected
)

// callbackName names a callback of the session's handler.
func (s *Session) callbackName(callback int) string {
	if callback == callbackRecv && s.svc.cfg.NewPacketSession != nil {
		return "OnRecvPacket"
	}
	return [...]string{"OnConnected", "OnRecv", "OnSend", "OnDisconnected"}[callback]
}

// recoverHandler ends the session with a *PanicError when the handler's
// callback it is deferred around panicked, unless Config.NoRecover lets the
// panic go on.
func (s *Session) recoverHandler(callback int) {
	if s.svc.cfg.NoRecover {
		return
	}
	v := recover()
	if v == nil {
		return
	}
	err := &PanicError{Callback: s.callbackName(callback), Value: v, Stack: debug.Stack()}
	s.svc.panics.Add(1)
	s.svc.log.panicked(s, err)
	s.Disconnect(err)
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
		cb := callbackRecv
		switch kind {
		case port.Connect:
			cb = callbackConnected
		case port.Send:
			cb = callbackSend
		case port.Disconnect:
			cb = callbackDisconnected
		}
		s.svc.log.slow(s, s.callbackName(cb), s.svc.cfg.SlowCallback)
	}
}
