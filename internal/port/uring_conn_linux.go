package port

import (
	"context"
	"math"
	"net"
	"net/netip"
	"unsafe"

	"golang.org/x/sys/unix"

	"servercore/internal/uring"
)

// uconn is a connection served by one loop. Its fields belong to the loop's
// goroutine; other goroutines reach it through the loop's inbox.
type uconn struct {
	l      *uloop
	fd     int32
	slot   uint32
	gen    uint32
	remote addrPort

	sendMsg   int16 // slot in l.msgs of the send in flight, or -1
	ops       uint8 // operations in the kernel: receive, send, connect
	recvArmed bool  // a multishot receive is armed
	closing   bool

	// ev is the owner's receive event until Close, and then its close
	// event: receives are not delivered once the connection closes.
	ev      *Event
	sendEv  *Event
	connect *uconnect // while connecting

	// local is the local address, shared by the loop's accepted
	// connections that have the same one.
	local *netip.AddrPort
}

// sendMsg slots must fit uconn.sendMsg.
var _ [math.MaxInt16 - (sendMsgSlots - 1)]struct{}

// addrPort is an IP address and port in 18 bytes (a netip.AddrPort takes
// 32), so that an idle connection stays small. IPv4 addresses are kept
// IPv4-mapped; the zero addrPort, with port 0, is no address.
type addrPort struct {
	ip   [16]byte
	port uint16
}

func compactAddr(ap netip.AddrPort) addrPort {
	return addrPort{ip: ap.Addr().As16(), port: ap.Port()}
}

func (a *addrPort) addrPort() netip.AddrPort {
	if a.port == 0 {
		return netip.AddrPort{}
	}
	return netip.AddrPortFrom(netip.AddrFrom16(a.ip).Unmap(), a.port)
}

// uconnect is what a client connection needs only while it connects.
type uconnect struct {
	ev        *Event
	sa        unix.RawSockaddrAny
	saLen     uint32
	stop      func() bool // ends the context watch
	started   bool        // the connect is in the kernel
	cancelled bool        // the context ended before it started
}

func (c *uconn) ud(kind uint8) uint64 { return userData(c.slot, c.gen, kind) }

// LocalAddr implements Conn.
func (c *uconn) LocalAddr() net.Addr {
	if c.local == nil {
		return nil
	}
	return tcpAddr(*c.local)
}

// RemoteAddr implements Conn.
func (c *uconn) RemoteAddr() net.Addr { return tcpAddr(c.remote.addrPort()) }

// learnAddrs records the connection's addresses while its descriptor is
// open, so they stay valid from any goroutine, after Close too. It runs on
// the loop and uses the loop's scratch sockaddr. An accepted connection
// shares its local address with the loop's others that have the same one;
// a client connection, whose local port is its own, has its own.
func (c *uconn) learnAddrs(accepted bool) {
	local := c.l.sockname(unix.SYS_GETSOCKNAME, c.fd)
	c.remote = compactAddr(c.l.sockname(unix.SYS_GETPEERNAME, c.fd))
	if accepted {
		if c.local = c.l.locals[local]; c.local != nil {
			return
		}
	}
	c.local = new(netip.AddrPort)
	*c.local = local
	if accepted && len(c.l.locals) < maxLocalAddrs {
		c.l.locals[local] = c.local
	}
}

// maxLocalAddrs bounds how many local addresses a loop keeps to share.
const maxLocalAddrs = 64

// sockname calls getsockname or getpeername (trap) on fd.
func (l *uloop) sockname(trap uintptr, fd int32) netip.AddrPort {
	sa := &l.sa
	n := uint32(unsafe.Sizeof(*sa))
	_, _, e := unix.Syscall(trap, uintptr(fd), uintptr(unsafe.Pointer(sa)), uintptr(unsafe.Pointer(&n)))
	if e != 0 {
		return netip.AddrPort{}
	}
	switch sa.Addr.Family {
	case unix.AF_INET:
		in := (*unix.RawSockaddrInet4)(unsafe.Pointer(sa))
		return netip.AddrPortFrom(netip.AddrFrom4(in.Addr), ntohs(in.Port))
	case unix.AF_INET6:
		in := (*unix.RawSockaddrInet6)(unsafe.Pointer(sa))
		return netip.AddrPortFrom(netip.AddrFrom16(in.Addr).Unmap(), ntohs(in.Port))
	}
	return netip.AddrPort{}
}

// ntohs turns a port in network byte order into a number.
func ntohs(p uint16) uint16 {
	b := (*[2]byte)(unsafe.Pointer(&p))
	return uint16(b[0])<<8 | uint16(b[1])
}

// Post implements Conn. Engines and owners call it on the loop.
func (c *uconn) Post(ev *Event) { ev.Owner.Dispatch(ev) }

// Recv implements Conn. It is called from the connection's completions, on
// the loop, and arms a multishot receive unless one is armed.
func (c *uconn) Recv(ev *Event) {
	if c.closing {
		return
	}
	c.ev = ev
	c.armRecv()
}

func (c *uconn) armRecv() {
	if c.recvArmed || c.closing || c.ev == nil {
		return
	}
	s := c.l.sqe()
	s.PrepRecvMultishot(int(c.fd), c.l.bufs.Group(), 0)
	s.UserData = c.ud(opRecv)
	c.recvArmed = true
	c.ops++
}

// Send implements Conn: safe from any goroutine.
func (c *uconn) Send(ev *Event) { c.l.post(uop{kind: opSend, c: c, ev: ev}) }

// Close implements Conn: safe from any goroutine.
func (c *uconn) Close(ev *Event) { c.l.post(uop{kind: opClose, c: c, ev: ev}) }

// received handles a completion of the multishot receive.
func (c *uconn) received(cqe *uring.CQE) {
	id, hasBuf := cqe.BufferID()
	if !cqe.More() {
		c.recvArmed = false
		c.ops--
	}
	switch {
	case c.closing:
		// The owner is going away: nothing more to deliver.
	case cqe.Res == -int32(unix.ENOBUFS):
		c.l.rearm = append(c.l.rearm, c) // after this batch recycles buffers
	case cqe.Res < 0:
		c.deliverRecv(nil, errnoErr("recv", cqe.Res))
	case cqe.Res == 0:
		c.deliverRecv(nil, nil) // the peer closed
	case hasBuf:
		c.deliverRecv(c.l.bufs.Buf(id)[:cqe.Res], nil)
		if !cqe.More() {
			c.armRecv()
		}
	}
	if hasBuf {
		c.l.recycle(id)
	}
	c.maybeFinishClose()
}

func (c *uconn) deliverRecv(data []byte, err error) {
	ev := c.ev
	if ev == nil {
		return
	}
	ev.Buf, ev.N, ev.Err = data, int32(len(data)), err
	ev.Owner.Dispatch(ev)
	ev.Buf = nil
}

// startSend gathers what the owner queued and submits one send of it: a
// sendmsg with an iovec per buffer, or a plain send of a single buffer.
func (c *uconn) startSend(ev *Event) {
	c.sendEv = ev
	if c.closing {
		ev.N, ev.Err = 0, net.ErrClosed
		ev.Owner.Dispatch(ev)
		return
	}
	bufs := ev.Owner.Gather(ev)
	if len(bufs) == 1 {
		// One buffer needs no msghdr: a plain send costs the kernel less.
		s := c.l.sqe()
		s.PrepSend(int(c.fd), bufs[0], unix.MSG_NOSIGNAL)
		s.UserData = c.ud(opSend)
		c.ops++
		return
	}
	i, ok := c.l.msgs.Alloc()
	if !ok {
		ev.N, ev.Err = 0, errNoSendSlot
		ev.Owner.Dispatch(ev)
		return
	}
	m := c.l.msgs.At(i)
	n := 0
	for _, b := range bufs {
		if len(b) == 0 {
			continue
		}
		if n == sendIovecs {
			break // the rest goes in the next round, as a partial write
		}
		m.iov[n].Set(b)
		n++
	}
	m.hdr = uring.Msghdr{}
	m.hdr.SetIovecs(m.iov[:n])
	s := c.l.sqe()
	s.PrepSendmsg(int(c.fd), &m.hdr, unix.MSG_NOSIGNAL)
	s.UserData = c.ud(opSend)
	c.sendMsg = int16(i)
	c.ops++
}

// sent handles the completion of a send.
func (c *uconn) sent(cqe *uring.CQE) {
	if c.sendMsg >= 0 {
		c.l.msgs.Free(int(c.sendMsg))
		c.sendMsg = -1
	}
	c.ops--
	ev := c.sendEv
	c.sendEv = nil
	if cqe.Res < 0 {
		ev.N, ev.Err = 0, errnoErr("send", cqe.Res)
	} else {
		ev.N, ev.Err = cqe.Res, nil
	}
	ev.Owner.Dispatch(ev)
	c.maybeFinishClose()
}

// startClose shuts the socket down so every operation in flight completes,
// and closes it once they have.
func (c *uconn) startClose(ev *Event) {
	if c.closing {
		return
	}
	c.closing = true
	c.ev = ev
	unix.Shutdown(int(c.fd), unix.SHUT_RDWR)
	if c.recvArmed {
		c.l.cancel(c.ud(opRecv))
	}
	if c.connect != nil {
		c.l.cancel(c.ud(opConnect))
	}
	c.maybeFinishClose()
}

func (c *uconn) maybeFinishClose() {
	if !c.closing || c.ops > 0 || c.fd < 0 {
		return
	}
	unix.Close(int(c.fd))
	c.fd = -1
	c.l.removeConn(c)
	if ev := c.ev; ev != nil {
		c.ev = nil
		ev.N, ev.Err = 0, nil
		ev.Owner.Dispatch(ev)
	}
}

// Connect implements Engine.
func (e *Uring) Connect(ctx context.Context, network, addr string, ev *Event) {
	err := e.connect(ctx, network, addr, ev)
	if err != nil {
		ev.Conn, ev.N, ev.Err = nil, 0, &net.OpError{Op: "dial", Net: network, Err: err}
		ev.Owner.Dispatch(ev)
	}
}

// connect resolves addr, makes the socket and hands the connect to a loop.
func (e *Uring) connect(ctx context.Context, network, addr string, ev *Event) error {
	ap, err := resolveTCP(ctx, network, addr)
	if err != nil {
		return err
	}
	fd, err := unix.Socket(family(ap), unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	cc := &uconnect{ev: ev}
	if cc.saLen, err = uring.PutSockaddr(&cc.sa, ap); err != nil {
		unix.Close(fd)
		return err
	}
	c := &uconn{fd: int32(fd), sendMsg: -1, connect: cc}
	c.l = e.loops[int(e.next.Add(1))%len(e.loops)]
	cc.stop = context.AfterFunc(ctx, func() { c.l.post(uop{kind: opConnectCancel, c: c}) })
	c.l.post(uop{kind: opConnect, c: c})
	return nil
}

func (c *uconn) startConnect() {
	c.l.addConn(c)
	if c.connect.cancelled {
		c.ops++
		c.connected(&uring.CQE{Res: -int32(unix.ECANCELED)})
		return
	}
	s := c.l.sqe()
	s.PrepConnect(int(c.fd), &c.connect.sa, c.connect.saLen)
	s.UserData = c.ud(opConnect)
	c.connect.started = true
	c.ops++
}

func (c *uconn) cancelConnect() {
	switch cc := c.connect; {
	case cc == nil:
	case cc.started:
		c.l.cancel(c.ud(opConnect))
	default:
		cc.cancelled = true
	}
}

// connected handles the completion of a connect.
func (c *uconn) connected(cqe *uring.CQE) {
	c.ops--
	cc := c.connect
	c.connect = nil
	cc.stop()
	ev := cc.ev
	if cqe.Res < 0 {
		err := error(unix.Errno(-cqe.Res))
		if cqe.Res == -int32(unix.ECANCELED) {
			err = context.Canceled
		}
		unix.Close(int(c.fd))
		c.fd = -1
		c.l.removeConn(c)
		ev.Conn, ev.N, ev.Err = nil, 0, &net.OpError{Op: "dial", Net: "tcp", Err: err}
		ev.Owner.Dispatch(ev)
		return
	}
	setNoDelay(int(c.fd))
	c.learnAddrs(false)
	ev.Conn, ev.N, ev.Err = c, 0, nil
	c.Post(ev)
}
