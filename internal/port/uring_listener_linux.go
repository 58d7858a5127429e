package port

import (
	"context"
	"net"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"servercore/internal/uring"
)

// acceptRetryDelay is how long a loop waits before accepting again after a
// failed accept (out of descriptors, say), so the failure does not spin.
const acceptRetryDelay = 10 * time.Millisecond

// uringListener is one listening socket with a multishot accept armed on
// every loop; each loop dispatches its accepts to its own copy of the event.
type uringListener struct {
	e    *Uring
	fd   int
	addr net.Addr
	ev   *Event

	mu      sync.Mutex
	open    int // loops where the accept is still armed or waiting to retry
	closing bool
	done    chan struct{}
	once    sync.Once
}

// loopListener is a listener's state in one loop.
type loopListener struct {
	l     *uringListener
	ev    Event // this loop's copy of the accept event
	retry bool  // a retry timeout is pending instead of an armed accept
}

// Listen implements Engine.
func (e *Uring) Listen(network, addr string, ev *Event) (Listener, error) {
	// The socket is made through package net for its address handling and
	// options, then duplicated, so the loops own a plain descriptor.
	lc := net.ListenConfig{}
	nl, err := lc.Listen(context.Background(), network, addr)
	if err != nil {
		return nil, err
	}
	f, err := nl.(*net.TCPListener).File()
	laddr := nl.Addr()
	nl.Close()
	if err != nil {
		return nil, err
	}
	fd, err := unix.Dup(int(f.Fd()))
	f.Close()
	if err != nil {
		return nil, err
	}
	unix.CloseOnExec(fd)
	l := &uringListener{e: e, fd: fd, addr: laddr, ev: ev, open: len(e.loops), done: make(chan struct{})}
	for _, lp := range e.loops {
		lp.post(uop{kind: opListen, l: l})
	}
	return l, nil
}

// Addr implements Listener.
func (l *uringListener) Addr() net.Addr { return l.addr }

// Close implements Listener: it cancels the accepts on every loop and waits
// until they have ended, then closes the socket.
func (l *uringListener) Close() error {
	l.once.Do(func() {
		l.mu.Lock()
		l.closing = true
		l.mu.Unlock()
		for _, lp := range l.e.loops {
			lp.post(uop{kind: opUnlisten, l: l})
		}
	})
	<-l.done
	return nil
}

func (l *uringListener) isClosing() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.closing
}

// loopDone records that one loop stopped accepting; the last closes the
// socket.
func (l *uringListener) loopDone() {
	l.mu.Lock()
	l.open--
	last := l.open == 0
	l.mu.Unlock()
	if last {
		unix.Close(l.fd)
		close(l.done)
	}
}

// listen arms the listener's accept on this loop.
func (lp *uloop) listen(l *uringListener) {
	ll := &loopListener{l: l, ev: *l.ev}
	slot := len(lp.listeners)
	for i, x := range lp.listeners {
		if x == nil {
			slot = i
			break
		}
	}
	if slot == len(lp.listeners) {
		lp.listeners = append(lp.listeners, nil)
	}
	lp.listeners[slot] = ll
	if l.isClosing() {
		lp.endListen(uint32(slot))
		return
	}
	ll.arm(lp, uint32(slot))
}

func (ll *loopListener) arm(lp *uloop, slot uint32) {
	s := lp.sqe()
	s.PrepMultishotAccept(ll.l.fd, unix.SOCK_CLOEXEC)
	s.UserData = userData(slot, 0, opAccept)
	ll.retry = false
}

// unlisten cancels the listener's accept on this loop.
func (lp *uloop) unlisten(l *uringListener) {
	for slot, ll := range lp.listeners {
		if ll == nil || ll.l != l {
			continue
		}
		kind := opAccept
		if ll.retry {
			kind = opAcceptRetry
		}
		lp.cancel(userData(uint32(slot), 0, kind))
	}
}

func (lp *uloop) endListen(slot uint32) {
	ll := lp.listeners[slot]
	lp.listeners[slot] = nil
	for len(lp.listeners) > 0 && lp.listeners[len(lp.listeners)-1] == nil {
		lp.listeners = lp.listeners[:len(lp.listeners)-1]
	}
	ll.l.loopDone()
}

// complete handles an accept completion, or the end of a retry delay.
func (ll *loopListener) complete(lp *uloop, slot uint32, kind uint8, cqe *uring.CQE) {
	closing := ll.l.isClosing()
	if kind == opAcceptRetry {
		if closing {
			lp.endListen(slot)
		} else {
			ll.arm(lp, slot)
		}
		return
	}
	ev := &ll.ev
	switch {
	case cqe.Res >= 0 && closing:
		unix.Close(int(cqe.Res))
	case cqe.Res >= 0:
		fd := int(cqe.Res)
		setNoDelay(fd)
		c := &uconn{l: lp, fd: int32(fd), sendMsg: -1}
		c.learnAddrs(true)
		lp.addConn(c)
		ev.Conn, ev.N, ev.Err = c, 0, nil
		ev.Owner.Dispatch(ev)
		ev.Conn = nil
	case cqe.Res != -int32(unix.ECANCELED) && !closing:
		ev.Conn, ev.N, ev.Err = nil, 0, errnoErr("accept", cqe.Res)
		ev.Owner.Dispatch(ev)
	}
	if cqe.More() {
		return
	}
	switch {
	case closing:
		lp.endListen(slot)
	case cqe.Res < 0:
		// Wait a little before accepting again, so a lasting failure
		// (out of descriptors) does not spin.
		s := lp.sqe()
		s.PrepTimeout(lp.ts.At(0), 0, 0)
		s.UserData = userData(slot, 0, opAcceptRetry)
		ll.retry = true
	default:
		ll.arm(lp, slot)
	}
}
