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

// uringListener is one listening socket. One loop accepts on it with a
// multishot accept and hands the accepted connections to the loops in
// turn, so that every loop serves its share: armed on every loop, the
// kernel would wake only one of them for every connection. A loop that is
// behind is passed over (handOff).
type uringListener struct {
	e    *Uring
	fd   int
	addr net.Addr
	lp   *uloop  // the loop that accepts
	evs  []Event // by loop: its copy of the accept event, for its connections

	mu      sync.Mutex
	busy    int // the accept (until it ends) and connections on their way to a loop
	closing bool
	done    chan struct{}
	once    sync.Once
}

// loopListener is the accepting loop's state of a listener.
type loopListener struct {
	l     *uringListener
	retry bool // a retry timeout is pending instead of an armed accept
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
	l := &uringListener{e: e, fd: fd, addr: laddr, busy: 1, done: make(chan struct{})}
	l.evs = make([]Event, len(e.loops))
	for i := range l.evs {
		l.evs[i] = *ev
	}
	l.lp = e.loops[int(e.next.Add(1))%len(e.loops)]
	l.lp.post(uop{kind: opListen, l: l})
	return l, nil
}

// Addr implements Listener.
func (l *uringListener) Addr() net.Addr { return l.addr }

// Close implements Listener: it cancels the accept and waits until it has
// ended and every accepted connection reached its loop, then closes the
// socket.
func (l *uringListener) Close() error {
	l.once.Do(func() {
		l.mu.Lock()
		l.closing = true
		l.mu.Unlock()
		l.lp.post(uop{kind: opUnlisten, l: l})
	})
	<-l.done
	return nil
}

func (l *uringListener) isClosing() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.closing
}

// hold counts a connection on its way to a loop, and release one, or the
// end of the accept; the last release closes the socket.
func (l *uringListener) hold() {
	l.mu.Lock()
	l.busy++
	l.mu.Unlock()
}

func (l *uringListener) release() {
	l.mu.Lock()
	l.busy--
	last := l.busy == 0
	l.mu.Unlock()
	if last {
		unix.Close(l.fd)
		close(l.done)
	}
}

// listen arms the listener's accept on this loop.
func (lp *uloop) listen(l *uringListener) {
	ll := &loopListener{l: l}
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

// unlisten cancels the listener's accept.
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
	ll.l.release()
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
	switch {
	case cqe.Res >= 0:
		ll.l.handOff(lp, int(cqe.Res))
	case cqe.Res != -int32(unix.ECANCELED) && !closing:
		ev := &ll.l.evs[lp.id]
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

// maxHanded is how many connections handed to a loop may wait for it to
// adopt them before it is passed over: a loop that has not taken that many
// is not running (its thread waits for a CPU on a loaded machine).
const maxHanded = 64

// handOff gives an accepted connection to the next loop in turn, passing
// over loops that are behind. A loop that is not running would otherwise
// take every connection handed to it meanwhile at once when it runs again,
// all of them sessions before it sees any of them end, though their peers
// may have left long ago; the accepting loop, which is running, serves the
// connection itself when every other loop is behind.
func (l *uringListener) handOff(from *uloop, fd int) {
	loops := l.e.loops
	first := int(l.e.next.Add(1))
	to := from
	for i := range loops {
		if c := loops[(first+i)%len(loops)]; c == from || c.handed.Load() < maxHanded {
			to = c
			break
		}
	}
	if to == from {
		to.adopt(l, fd)
		return
	}
	l.hold()
	to.handed.Add(1)
	to.post(uop{kind: opAdopt, l: l, fd: int32(fd)})
}

// adopt serves an accepted connection on this loop and completes the
// listener's accept event with it, unless the listener is closing.
func (lp *uloop) adopt(l *uringListener, fd int) {
	if l.isClosing() {
		unix.Close(fd)
		return
	}
	setNoDelay(fd)
	c := &uconn{l: lp, fd: int32(fd), sendMsg: -1}
	c.learnAddrs(true)
	lp.addConn(c)
	ev := &l.evs[lp.id]
	ev.Conn, ev.N, ev.Err = c, 0, nil
	ev.Owner.Dispatch(ev)
	ev.Conn = nil
}
