package port

import (
	"context"
	"errors"
	"math"
	"net"
	"net/netip"
	"sync"
	"unsafe"

	"golang.org/x/sys/windows"
)

// iconn is one connection of the iocp engine.
//
// Its completions run under dispatch, one at a time, whichever worker reaped
// them: begin takes dispatch, the completion is dispatched, and finish works
// off what the dispatch left: completions that happened at once (the socket skips the port on
// success), the send it registered, and the end of a close. Send and Close
// from other goroutines, and operations completing at once outside a
// dispatch, post a kick packet to the port so that a worker does that work;
// registering never dispatches on the caller's goroutine.
type iconn struct {
	e      *IOCP
	s      windows.Handle
	family int32
	skip   bool // the socket skips the port when an operation completes at once
	reused bool // the socket came from the pool
	// The addresses, kept: they stay known after a reset and after Close,
	// from any goroutine.
	laddr, raddr netip.AddrPort

	// The operation records. The kernel holds them, and the memory below,
	// until the operation completes; they live in heap objects, which Go
	// never moves, and the engine keeps them reachable (IOCP.live).
	recvOp, sendOp, kickOp ioOp

	rbuf    windows.WSABuf   // the receive's buffer: the owner's Event.Buf
	rflags  uint32           // WSARecv's flags
	rn, sn  uint32           // bytes of a receive or send that completed at once
	wsabufs []windows.WSABuf // the gathered send's buffers, one per buffer Gather returned

	// dispatch serialises the completions; the fields below it belong to
	// whoever holds it.
	dispatch  sync.Mutex
	inline    int32  // completions at once dispatched in the current run
	recvEv    *Event // the receive in flight
	sendingEv *Event // the send in flight

	mu         sync.Mutex // guards the fields below
	ops        int32      // completions the port will deliver: operations in the kernel, posted packets
	inDispatch bool       // a goroutine holds dispatch and will work off done, sendEv and the close
	kickQueued bool
	closing    bool
	closed     bool
	connected  bool   // established: DisconnectEx applies
	sendEv     *Event // a registered send a worker has not started yet
	closeEv    *Event
	done       []iocpDone // completions to dispatch once the current dispatch returns

	connect *iconnect // while a client connection connects
	discOp  *ioOp     // DisconnectEx, once closed
}

// iconnect is what a client connection needs only while it connects.
type iconnect struct {
	op         ioOp // must stay first
	ev         *Event
	sa         windows.RawSockaddrAny
	saLen      int32
	connecting bool // ConnectEx is in the kernel; guarded by iconn.mu
	ctx        context.Context
	target     netip.AddrPort
	stop       func() bool
}

// iocpDone is a completion waiting to be dispatched.
type iocpDone struct {
	kind uint8
	n    int
	err  error
}

func (e *IOCP) newConn(s windows.Handle, family int32, skip, reused bool) *iconn {
	c := &iconn{e: e, s: s, family: family, skip: skip, reused: reused}
	c.recvOp = ioOp{kind: iocpRecv, c: c}
	c.sendOp = ioOp{kind: iocpSend, c: c}
	c.kickOp = ioOp{kind: iocpKick, c: c}
	return c
}

// LocalAddr implements Conn.
func (c *iconn) LocalAddr() net.Addr { return tcpAddr(c.laddr) }

// RemoteAddr implements Conn.
func (c *iconn) RemoteAddr() net.Addr { return tcpAddr(c.raddr) }

// Post implements Conn.
func (c *iconn) Post(ev *Event) {
	c.begin()
	ev.Owner.Dispatch(ev)
	c.finish()
}

// begin takes the dispatch lock for a completion. finish then works off
// what the dispatch left and releases it. (No closure between them: a
// completion allocates nothing.)
func (c *iconn) begin() {
	c.dispatch.Lock()
	c.inline = 0
	c.mu.Lock()
	c.inDispatch = true
	c.mu.Unlock()
}

func (c *iconn) finish() {
	for {
		c.mu.Lock()
		if len(c.done) > 0 {
			d := c.done[0]
			n := copy(c.done, c.done[1:])
			c.done[n] = iocpDone{}
			c.done = c.done[:n]
			c.mu.Unlock()
			c.deliver(d.kind, d.n, d.err)
			continue
		}
		if ev := c.sendEv; ev != nil {
			c.sendEv = nil
			c.mu.Unlock()
			c.startSend(ev)
			continue
		}
		if c.closing && c.ops == 0 && !c.closed {
			c.closed = true
			ev := c.closeEv
			c.closeEv = nil
			connected := c.connected
			c.mu.Unlock()
			if ev != nil {
				ev.N, ev.Err, ev.Conn = 0, nil, nil
				ev.Owner.Dispatch(ev)
			}
			c.release(connected)
			continue
		}
		c.inDispatch = false
		c.mu.Unlock()
		break
	}
	c.dispatch.Unlock()
}

// wakeLocked makes sure a goroutine will work off done, sendEv and the
// close: the one dispatching, or a worker reaping a kick packet.
func (c *iconn) wakeLocked() {
	if c.inDispatch || c.kickQueued {
		return
	}
	c.kickQueued = true
	c.ops++
	c.kickOp.reset()
	if err := c.e.post(&c.kickOp, 0); err != nil {
		// Only a closed port refuses a packet: the engine is gone.
		c.kickQueued = false
		c.ops--
	}
}

// kicked handles a kick packet.
func (c *iconn) kicked() {
	c.begin()
	c.mu.Lock()
	c.ops--
	c.kickQueued = false
	c.mu.Unlock()
	c.finish()
}

// pushLocked queues a completion to dispatch after the current dispatch.
func (c *iconn) pushLocked(kind uint8, n int, err error) {
	c.done = append(c.done, iocpDone{kind: kind, n: n, err: err})
	c.wakeLocked()
}

// issuedLocked handles what a WSARecv or WSASend call returned, its
// operation counted in ops.
func (c *iconn) issuedLocked(op *ioOp, err error, n uint32, name string) {
	switch {
	case err == nil && c.skip:
		// It completed at once and the port will not hear of it. Dispatch it
		// after the current dispatch, or, past the budget, through the port,
		// so one busy connection does not hold a worker forever.
		if c.inDispatch && c.inline < inlineBudget {
			c.inline++
			c.ops--
			c.pushLocked(op.kind, int(n), nil)
			return
		}
		op.ov.Internal, op.ov.InternalHigh = 0, uintptr(n)
		if c.e.post(op, n) != nil {
			c.ops--
			c.pushLocked(op.kind, int(n), nil)
		}
	case err == nil || err == windows.ERROR_IO_PENDING:
		// The port delivers the completion.
	default:
		c.ops--
		c.pushLocked(op.kind, 0, newSockError(name, err))
	}
}

// Recv implements Conn: one WSARecv into ev.Buf.
func (c *iconn) Recv(ev *Event) {
	c.recvEv = ev
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.closing:
		c.pushLocked(iocpRecv, 0, errClosing("wsarecv"))
		return
	case len(ev.Buf) == 0:
		c.pushLocked(iocpRecv, 0, errors.New("port: Recv with an empty buffer"))
		return
	}
	c.rbuf = windows.WSABuf{Len: uint32(min(len(ev.Buf), math.MaxInt32)), Buf: unsafe.SliceData(ev.Buf)}
	c.rflags = 0
	c.recvOp.reset()
	c.ops++
	err := windows.WSARecv(c.s, &c.rbuf, 1, &c.rn, &c.rflags, &c.recvOp.ov, nil)
	c.issuedLocked(&c.recvOp, err, c.rn, "wsarecv")
}

// Send implements Conn: safe from any goroutine. A worker, or the goroutine
// dispatching, gathers and writes once the current dispatch returns.
func (c *iconn) Send(ev *Event) {
	c.mu.Lock()
	c.sendEv = ev
	c.wakeLocked()
	c.mu.Unlock()
}

// startSend gathers what the owner queued and writes it in one WSASend with
// a WSABUF per buffer. It runs under dispatch, so Gather never runs
// concurrently with a completion.
func (c *iconn) startSend(ev *Event) {
	c.sendingEv = ev
	c.mu.Lock()
	closing := c.closing
	c.mu.Unlock()
	if closing {
		c.deliver(iocpSend, 0, errClosing("wsasend"))
		return
	}
	bufs := c.wsabufs[:0]
	for _, b := range ev.Owner.Gather(ev) {
		if len(b) == 0 {
			continue
		}
		if len(bufs) == maxWSABufs {
			break // the rest goes in the next round, as a partial write
		}
		bufs = append(bufs, windows.WSABuf{Len: uint32(len(b)), Buf: unsafe.SliceData(b)})
	}
	c.wsabufs = bufs
	if len(bufs) == 0 {
		c.deliver(iocpSend, 0, nil)
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closing {
		c.pushLocked(iocpSend, 0, errClosing("wsasend"))
		return
	}
	c.sendOp.reset()
	c.ops++
	err := windows.WSASend(c.s, &bufs[0], uint32(len(bufs)), &c.sn, 0, &c.sendOp.ov, nil)
	c.issuedLocked(&c.sendOp, err, c.sn, "wsasend")
}

// completed handles a completion of a receive, send or connect.
func (c *iconn) completed(op *ioOp, n int) {
	var err error
	if op.ov.Internal != 0 {
		err = overlappedErr(opName(op.kind), c.s, &op.ov)
	}
	if op.kind == iocpConnect {
		c.connectDone(err)
		return
	}
	c.begin()
	c.mu.Lock()
	c.ops--
	c.mu.Unlock()
	c.deliver(op.kind, n, err)
	c.finish()
}

func opName(kind uint8) string {
	switch kind {
	case iocpRecv:
		return "wsarecv"
	case iocpSend:
		return "wsasend"
	case iocpConnect:
		return "connectex"
	}
	return "iocp"
}

// deliver dispatches a receive's or send's completion to its event.
func (c *iconn) deliver(kind uint8, n int, err error) {
	var ev *Event
	switch kind {
	case iocpRecv:
		ev, c.recvEv = c.recvEv, nil
		c.rbuf = windows.WSABuf{}
	case iocpSend:
		ev, c.sendingEv = c.sendingEv, nil
		clear(c.wsabufs)
	}
	if ev == nil {
		return
	}
	ev.N, ev.Err = int32(n), err
	ev.Owner.Dispatch(ev)
}

// Close implements Conn: it cancels what is in the kernel (CancelIoEx); the
// close completes once every operation did. The socket then goes to
// DisconnectEx(TF_REUSE_SOCKET) and the pool, or is closed.
func (c *iconn) Close(ev *Event) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closing {
		return
	}
	c.closing = true
	c.closeEv = ev
	if c.ops > 0 {
		windows.CancelIoEx(c.s, nil)
	}
	c.wakeLocked()
}

// release gives up the socket once no operation is in flight: DisconnectEx
// prepares an established one for reuse, in the background (TIME_WAIT may
// hold it), else it is closed.
func (c *iconn) release(connected bool) {
	e := c.e
	e.mu.Lock()
	reuse := connected && e.reuse && !e.closing
	if reuse {
		e.discs[c] = struct{}{}
	} else {
		delete(e.live, c)
	}
	e.mu.Unlock()
	if !reuse {
		windows.Closesocket(c.s)
		return
	}
	c.discOp = &ioOp{kind: iocpDisconnect, c: c}
	err := e.ext.DisconnectEx(c.s, &c.discOp.ov, windows.TF_REUSE_SOCKET)
	switch {
	case err == nil && c.skip:
		e.recycle(c, nil)
	case err == nil || err == windows.ERROR_IO_PENDING:
		// The port delivers the completion: disconnected.
	default:
		e.recycle(c, newSockError("disconnectex", err)) // closes it
	}
}

// disconnected handles the completion of DisconnectEx.
func (c *iconn) disconnected(err error) { c.e.recycle(c, err) }

// Connect implements Engine: ConnectEx on a bound socket, a pooled one if
// there is one. It fails on the caller's goroutine when it cannot start.
func (e *IOCP) Connect(ctx context.Context, network, addr string, ev *Event) {
	ap, err := resolveTCP(ctx, network, addr)
	if err != nil {
		ev.Conn, ev.N, ev.Err = nil, 0, &net.OpError{Op: "dial", Net: network, Err: err}
		ev.Owner.Dispatch(ev)
		return
	}
	e.dial(ctx, ap, family(ap), ev, e.reuse)
}

func (e *IOCP) dial(ctx context.Context, ap netip.AddrPort, family int32, ev *Event, reuse bool) {
	raddr := net.TCPAddrFromAddrPort(ap)
	fail := func(err error) {
		ev.Conn, ev.N, ev.Err = nil, 0, &net.OpError{Op: "dial", Net: "tcp", Addr: raddr, Err: err}
		ev.Owner.Dispatch(ev)
	}
	if err := ctx.Err(); err != nil {
		fail(err)
		return
	}
	s, skip, reused, err := e.socket(family, reuse)
	if err != nil {
		fail(err)
		return
	}
	// ConnectEx wants a bound socket. A reused one may still be bound
	// (WSAEINVAL), from the connect it served before.
	if err := windows.Bind(s, wildcard(family)); err != nil && !(reused && err == windows.WSAEINVAL) {
		windows.Closesocket(s)
		if reused {
			e.dial(ctx, ap, family, ev, false)
			return
		}
		fail(newSockError("bind", err))
		return
	}
	c := e.newConn(s, family, skip, reused)
	c.raddr = ap
	cc := &iconnect{ev: ev, ctx: ctx, target: ap}
	cc.op = ioOp{kind: iocpConnect, c: c}
	cc.saLen = putSockaddr(&cc.sa, ap)
	c.connect = cc
	e.track(c)

	c.mu.Lock()
	c.ops++
	cc.connecting = true
	err = e.ext.ConnectEx(s, &cc.sa, cc.saLen, &cc.op.ov)
	switch {
	case err == nil && skip:
		cc.op.ov.Internal, cc.op.ov.InternalHigh = 0, 0
		err = e.post(&cc.op, 0)
	case err == windows.ERROR_IO_PENDING:
		err = nil
	}
	if err != nil {
		c.ops--
		cc.connecting = false
		c.mu.Unlock()
		if reused {
			// Once more with a new socket, which reports the error if it
			// is the target's. (No context watch was set up yet.)
			c.connect = nil
			c.drop()
			e.dial(ctx, ap, family, ev, false)
			return
		}
		c.connectFailed(newSockError("connectex", err))
		return
	}
	cc.stop = context.AfterFunc(ctx, c.cancelConnect)
	c.mu.Unlock()
}

// cancelConnect cancels a ConnectEx in flight when the context ends.
func (c *iconn) cancelConnect() {
	c.mu.Lock()
	if cc := c.connect; cc != nil && cc.connecting {
		windows.CancelIoEx(c.s, &cc.op.ov)
	}
	c.mu.Unlock()
}

// connectDone handles the completion of ConnectEx. A failed connect is
// never treated as connected: its error reaches the owner.
func (c *iconn) connectDone(err error) {
	c.mu.Lock()
	c.ops--
	cc := c.connect
	cc.connecting = false
	c.mu.Unlock()
	if cc.stop != nil {
		cc.stop()
	}
	if err == nil {
		if e := windows.Setsockopt(c.s, windows.SOL_SOCKET, windows.SO_UPDATE_CONNECT_CONTEXT, nil, 0); e != nil {
			err = newSockError("setsockopt SO_UPDATE_CONNECT_CONTEXT", e)
		}
	}
	if err != nil {
		var se *sockError
		if c.reused && errors.As(err, &se) && !se.cancelled() {
			// A reused socket that cannot connect again: once more with a
			// new one, which reports the error if it is the target's.
			c.mu.Lock()
			c.connect = nil
			c.mu.Unlock()
			c.drop()
			c.e.dial(cc.ctx, cc.target, c.family, cc.ev, false)
			return
		}
		if errors.Is(err, net.ErrClosed) && cc.ctx.Err() != nil {
			err = cc.ctx.Err()
		}
		c.connectFailed(err)
		return
	}
	setNoDelay(c.s)
	if sa, err := windows.Getsockname(c.s); err == nil {
		c.laddr = sockaddrToAddrPort(sa)
	}
	c.mu.Lock()
	c.connected = true
	c.connect = nil
	c.mu.Unlock()
	ev := cc.ev
	ev.Conn, ev.N, ev.Err = c, 0, nil
	c.Post(ev)
}

// connectFailed closes the socket of a connect that failed and completes
// its event with the error.
func (c *iconn) connectFailed(err error) {
	c.mu.Lock()
	cc := c.connect
	c.connect = nil
	c.mu.Unlock()
	c.drop()
	ev := cc.ev
	ev.Conn, ev.N, ev.Err = nil, 0, &net.OpError{Op: "dial", Net: "tcp", Addr: net.TCPAddrFromAddrPort(cc.target), Err: err}
	ev.Owner.Dispatch(ev)
}

// drop closes the socket of a connection that never connected.
func (c *iconn) drop() {
	windows.Closesocket(c.s)
	c.e.untrack(c)
}
