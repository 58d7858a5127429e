//go:build !linux

package port

import (
	"errors"
	"net"
)

// directWriter is not used off Linux: every send goes to the writer goroutine.
type directWriter struct{}

func (w *directWriter) init(net.Conn) {}

func (w *directWriter) ok() bool { return false }

func (w *directWriter) write(bufs [][]byte) (int, [][]byte, error) { return 0, bufs, errWouldBlock }

var errWouldBlock = errors.New("port: write would block")
