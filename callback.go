package servercore

import (
	"bytes"
	"reflect"
	"runtime"
)

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
