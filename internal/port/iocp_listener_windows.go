package port

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"sync"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"
)

// iocpListener is a listening socket with a fixed number of AcceptEx calls
// posted; each completion hands its connection to the owner and posts the
// call again, from the completion, in a loop, never by recursion.
type iocpListener struct {
	e      *IOCP
	s      windows.Handle
	family int32
	addr   net.Addr
	ev     *Event
	slots  []*acceptOp

	dispatch sync.Mutex // accept completions reach the owner one at a time

	mu       sync.Mutex
	closing  bool
	open     int // slots not finished: an AcceptEx in the kernel, or a retry waiting
	finished bool
	done     chan struct{}
	once     sync.Once
}

// acceptOp is one posted AcceptEx. Its op must stay the first field.
type acceptOp struct {
	op      ioOp
	l       *iocpListener
	sock    windows.Handle // the socket the connection is accepted into
	skip    bool
	reused  bool
	n       uint32
	buf     [2 * acceptAddrLen]byte // the local and remote addresses
	backoff time.Duration
	timer   *time.Timer // a retry after a failure, guarded by l.mu
}

// Listen implements Engine. An empty host listens on every address, IPv6 and
// IPv4 alike where the system allows.
func (e *IOCP) Listen(network, addr string, ev *Event) (Listener, error) {
	opErr := func(err error) error {
		return &net.OpError{Op: "listen", Net: network, Err: err}
	}
	switch network {
	case "tcp", "tcp4", "tcp6":
	default:
		return nil, opErr(net.UnknownNetworkError(network))
	}
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, opErr(err)
	}
	var r net.Resolver
	port, err := r.LookupPort(context.Background(), network, portStr)
	if err != nil {
		return nil, opErr(err)
	}
	var ips []netip.Addr
	switch {
	case host != "":
		want := map[string]string{"tcp": "ip", "tcp4": "ip4", "tcp6": "ip6"}[network]
		if ips, err = r.LookupNetIP(context.Background(), want, host); err != nil {
			return nil, opErr(err)
		}
		ips = ips[:1]
	case network == "tcp4":
		ips = []netip.Addr{netip.IPv4Unspecified()}
	case network == "tcp6":
		ips = []netip.Addr{netip.IPv6Unspecified()}
	default:
		ips = []netip.Addr{netip.IPv6Unspecified(), netip.IPv4Unspecified()}
	}
	var s windows.Handle
	var family int32
	for i, ip := range ips {
		ip = ip.Unmap()
		dual := host == "" && network == "tcp" && ip.Is6()
		s, family, err = e.listenSocket(netip.AddrPortFrom(ip, uint16(port)), dual)
		if err == nil || i == len(ips)-1 {
			break
		}
	}
	if err != nil {
		return nil, opErr(err)
	}
	l := &iocpListener{e: e, s: s, family: family, ev: ev, done: make(chan struct{})}
	if sa, err := windows.Getsockname(s); err == nil {
		l.addr = sockaddrToTCP(sa)
	}
	e.track(l)
	l.slots = make([]*acceptOp, e.accepts)
	l.open = e.accepts
	for i := range l.slots {
		a := &acceptOp{l: l}
		a.op = ioOp{kind: iocpAccept, a: a}
		l.slots[i] = a
	}
	for _, a := range l.slots {
		a.post()
	}
	return l, nil
}

// listenSocket makes an overlapped socket listening on ap, associated with
// the port.
func (e *IOCP) listenSocket(ap netip.AddrPort, dual bool) (windows.Handle, int32, error) {
	family := int32(windows.AF_INET6)
	var sa windows.Sockaddr = &windows.SockaddrInet6{Port: int(ap.Port()), Addr: ap.Addr().As16()}
	if ap.Addr().Is4() {
		family = windows.AF_INET
		sa = &windows.SockaddrInet4{Port: int(ap.Port()), Addr: ap.Addr().As4()}
	}
	s, err := windows.WSASocket(family, windows.SOCK_STREAM, windows.IPPROTO_TCP, nil, 0,
		windows.WSA_FLAG_OVERLAPPED|windows.WSA_FLAG_NO_HANDLE_INHERIT)
	if err != nil {
		return 0, 0, os.NewSyscallError("wsasocket", err)
	}
	fail := func(op string, err error) (windows.Handle, int32, error) {
		windows.Closesocket(s)
		return 0, 0, os.NewSyscallError(op, err)
	}
	if dual {
		if err := windows.SetsockoptInt(s, windows.IPPROTO_IPV6, windows.IPV6_V6ONLY, 0); err != nil {
			return fail("setsockopt", err)
		}
	}
	if err := windows.Bind(s, sa); err != nil {
		return fail("bind", err)
	}
	if err := windows.Listen(s, windows.SOMAXCONN); err != nil {
		return fail("listen", err)
	}
	// The listening socket does not skip the port: every AcceptEx completes
	// through it, so a completion never re-posts on the posting goroutine.
	if _, err := windows.CreateIoCompletionPort(s, e.port, 0, 0); err != nil {
		return fail("createiocompletionport", err)
	}
	return s, family, nil
}

// Addr implements Listener.
func (l *iocpListener) Addr() net.Addr { return l.addr }

// Close implements Listener: it cancels the posted AcceptEx calls and the
// retries waiting, waits until every slot has finished, its completion
// dispatched, and closes the socket.
func (l *iocpListener) Close() error {
	l.once.Do(func() {
		l.mu.Lock()
		l.closing = true
		windows.CancelIoEx(l.s, nil)
		for _, a := range l.slots {
			if a.timer != nil && a.timer.Stop() {
				a.timer = nil
				l.open--
			}
		}
		l.finishLocked()
		l.mu.Unlock()
	})
	<-l.done
	return nil
}

// slotDone records that a slot finished while closing.
func (l *iocpListener) slotDone() {
	l.mu.Lock()
	l.open--
	l.finishLocked()
	l.mu.Unlock()
}

func (l *iocpListener) finishLocked() {
	if l.open == 0 && l.closing && !l.finished {
		l.finished = true
		windows.Closesocket(l.s)
		l.e.untrack(l)
		close(l.done)
	}
}

func (l *iocpListener) isClosing() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.closing
}

// report completes the listener's event with a failed accept.
func (l *iocpListener) report(err error) {
	l.dispatch.Lock()
	ev := l.ev
	ev.Conn, ev.N, ev.Err = nil, 0, &net.OpError{Op: "accept", Net: "tcp", Addr: l.addr, Err: err}
	ev.Owner.Dispatch(ev)
	l.dispatch.Unlock()
}

// post posts the slot's AcceptEx into a pooled or new socket.
func (a *acceptOp) post() {
	l := a.l
	s, skip, reused, err := l.e.socket(l.family, l.e.reuse)
	if err != nil {
		a.retryLater(err)
		return
	}
	a.sock, a.skip, a.reused = s, skip, reused
	l.mu.Lock()
	if l.closing {
		l.mu.Unlock()
		windows.Closesocket(s)
		l.slotDone()
		return
	}
	a.op.reset()
	err = l.e.ext.AcceptEx(l.s, s, &a.buf[0], &a.n, &a.op.ov)
	l.mu.Unlock()
	if err == nil || err == windows.ERROR_IO_PENDING {
		return // the port delivers the completion, even of one done at once
	}
	windows.Closesocket(s)
	a.retryLater(newSockError("acceptex", err))
}

// retryLater reports a failure to post, then posts again after a delay that
// grows while the failure lasts (out of sockets, say), so it does not spin.
func (a *acceptOp) retryLater(err error) {
	l := a.l
	if !l.isClosing() {
		l.report(err)
	}
	a.backoff = min(max(2*a.backoff, 5*time.Millisecond), time.Second)
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closing {
		l.open--
		l.finishLocked()
		return
	}
	a.timer = time.AfterFunc(a.backoff, func() {
		l.mu.Lock()
		a.timer = nil
		closing := l.closing
		l.mu.Unlock()
		if closing {
			l.slotDone()
			return
		}
		a.post()
	})
}

// completed handles the completion of the slot's AcceptEx.
func (a *acceptOp) completed() {
	l := a.l
	var err error
	if a.op.ov.Internal != 0 {
		err = overlappedErr("acceptex", l.s, &a.op.ov)
	}
	closing := l.isClosing()
	if err == nil && !closing {
		err = windows.Setsockopt(a.sock, windows.SOL_SOCKET, windows.SO_UPDATE_ACCEPT_CONTEXT,
			(*byte)(unsafe.Pointer(&l.s)), int32(unsafe.Sizeof(l.s)))
		if err != nil {
			err = newSockError("setsockopt SO_UPDATE_ACCEPT_CONTEXT", err)
		}
	}
	if closing {
		windows.Closesocket(a.sock)
		l.slotDone()
		return
	}
	if err != nil {
		windows.Closesocket(a.sock)
		if errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNABORTED) {
			// A connection reset before it was accepted: report it and
			// accept the next one at once.
			l.report(err)
			a.post()
			return
		}
		a.retryLater(err)
		return
	}
	a.backoff = 0
	c := l.e.newConn(a.sock, l.family, a.skip, a.reused)
	c.laddr, c.raddr = l.e.ext.GetAcceptExSockaddrs(&a.buf[0])
	c.connected = true
	setNoDelay(c.s)
	l.e.track(c)

	l.dispatch.Lock()
	ev := l.ev
	ev.Conn, ev.N, ev.Err = c, 0, nil
	ev.Owner.Dispatch(ev)
	ev.Conn = nil
	l.dispatch.Unlock()
	a.post()
}
