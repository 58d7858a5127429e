package port

import (
	"errors"
	"net"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// maxIovecs is the most iovecs one writev takes (IOV_MAX on Linux).
const maxIovecs = 1024

// directWriter writes without waiting: one writev of everything queued,
// straight from the goroutine that completed a receive, so that a reply
// needs no goroutine of its own. When the socket buffer is full it reports
// errWouldBlock and the writer goroutine finishes the job.
type directWriter struct {
	rc   syscall.RawConn
	fn   func(fd uintptr) bool // w.writev, bound once
	iov  []unix.Iovec
	bufs [][]byte
	n    int
	err  error
}

func (w *directWriter) init(nc net.Conn) {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return
	}
	w.rc = rc
	w.fn = w.writev
}

func (w *directWriter) ok() bool { return w.rc != nil }

// write writes as much of bufs as the socket takes now. It returns the bytes
// written, the buffers left, and nil, errWouldBlock or the write's error.
func (w *directWriter) write(bufs [][]byte) (int, [][]byte, error) {
	w.bufs, w.n, w.err = bufs, 0, nil
	if err := w.rc.Write(w.fn); err != nil {
		w.err = err
	}
	n, rest, err := w.n, w.bufs, w.err
	w.bufs, w.err = nil, nil
	clear(w.iov[:cap(w.iov)])
	return n, rest, err
}

func (w *directWriter) writev(fd uintptr) bool {
	for len(w.bufs) > 0 {
		iov := w.iov[:0]
		for _, b := range w.bufs {
			if len(iov) == maxIovecs {
				break
			}
			if len(b) == 0 {
				continue
			}
			v := unix.Iovec{Base: &b[0]}
			v.SetLen(len(b))
			iov = append(iov, v)
		}
		w.iov = iov
		if len(iov) == 0 {
			return true
		}
		r, _, e := unix.Syscall(unix.SYS_WRITEV, fd, uintptr(unsafe.Pointer(&iov[0])), uintptr(len(iov)))
		switch {
		case e == unix.EINTR:
			continue
		case e == unix.EAGAIN:
			w.err = errWouldBlock
			return true
		case e != 0:
			w.err = &net.OpError{Op: "writev", Net: "tcp", Err: e}
			return true
		}
		w.n += int(r)
		w.bufs = Advance(w.bufs, int(r))
	}
	return true
}

var errWouldBlock = errors.New("port: write would block")
