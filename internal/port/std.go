package port

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"sync"
	"time"
)

// Std is the portable engine on package net. Each connection runs a blocking
// read on its own goroutine while a receive is registered, and a writer
// goroutine while a send is registered; both post their completions through
// the connection's dispatch lock, which serialises them.
type Std struct {
	// TLS, if set, makes its listeners serve and its connections dial
	// TLS with this configuration.
	TLS *tls.Config
	wg  sync.WaitGroup
}

// NewStd returns the portable engine.
func NewStd() *Std { return &Std{} }

// Name implements Engine.
func (e *Std) Name() string { return "std" }

// RecvMemory implements Engine: std reads into the owner's buffer.
func (e *Std) RecvMemory() bool { return false }

// Close implements Engine.
func (e *Std) Close() error {
	e.wg.Wait()
	return nil
}

// Listen implements Engine.
func (e *Std) Listen(network, addr string, ev *Event) (Listener, error) {
	lc := net.ListenConfig{}
	ln, err := lc.Listen(context.Background(), network, addr)
	if err != nil {
		return nil, err
	}
	if e.TLS != nil {
		ln = tls.NewListener(ln, e.TLS)
	}
	l := &stdListener{e: e, ln: ln, ev: ev, done: make(chan struct{})}
	e.wg.Add(1)
	go l.acceptLoop()
	return l, nil
}

// Connect implements Engine.
func (e *Std) Connect(ctx context.Context, network, addr string, ev *Event) {
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		var d interface {
			DialContext(ctx context.Context, network, addr string) (net.Conn, error)
		} = &net.Dialer{}
		if e.TLS != nil {
			d = &tls.Dialer{Config: e.TLS}
		}
		nc, err := d.DialContext(ctx, network, addr)
		ev.N = 0
		if err != nil {
			ev.Err, ev.Conn = err, nil
			ev.Owner.Dispatch(ev)
			return
		}
		c := e.newConn(nc)
		ev.Err, ev.Conn = nil, c
		c.post(ev)
	}()
}

type stdListener struct {
	e    *Std
	ln   net.Listener
	ev   *Event
	once sync.Once
	done chan struct{}
}

func (l *stdListener) Addr() net.Addr { return l.ln.Addr() }

func (l *stdListener) Close() error {
	var err error
	l.once.Do(func() { err = l.ln.Close() })
	<-l.done
	return err
}

func (l *stdListener) acceptLoop() {
	defer l.e.wg.Done()
	defer close(l.done)
	var backoff time.Duration
	for {
		nc, err := l.ln.Accept()
		ev := l.ev
		ev.N = 0
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// Out of descriptors or a similar passing condition: report it,
			// back off and keep accepting, as net/http does.
			ev.Err, ev.Conn = err, nil
			ev.Owner.Dispatch(ev)
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			time.Sleep(backoff)
			continue
		}
		backoff = 0
		ev.Err, ev.Conn = nil, l.e.newConn(nc)
		ev.Owner.Dispatch(ev)
		ev.Conn = nil
	}
}

type stdConn struct {
	e  *Std
	nc net.Conn

	// dispatch serialises the completions of this connection.
	dispatch sync.Mutex

	mu       sync.Mutex // guards the fields below
	recvEv   *Event     // registered receive, taken by the reader
	sendEv   *Event     // registered send, taken by a writer
	reading  bool       // the reader goroutine is running
	writerUp bool       // the writer goroutine is running (it parks on wake when idle)
	writing  bool       // the writer or a direct write owns the send in flight
	inRecv   bool       // the reader is dispatching a receive and writes what it sends after
	closing  bool
	closeEv  *Event
	wake     chan struct{} // wakes the parked writer

	direct directWriter
	wbufs  net.Buffers // the writer goroutine's buffers, kept here so WriteTo does not allocate
	wsent  int         // bytes of the send a direct write began and handed on
	wrest  [][]byte    // what that direct write left
}

func (e *Std) newConn(nc net.Conn) *stdConn {
	c := &stdConn{e: e, nc: nc}
	c.direct.init(nc)
	return c
}

func (c *stdConn) LocalAddr() net.Addr  { return c.nc.LocalAddr() }
func (c *stdConn) RemoteAddr() net.Addr { return c.nc.RemoteAddr() }

// Post implements Conn on a goroutine of the connection's: its caller is
// the accept loop, which a slow OnConnected would otherwise hold up for
// every connection that follows.
func (c *stdConn) Post(ev *Event) {
	c.e.wg.Add(1)
	go func() {
		defer c.e.wg.Done()
		c.post(ev)
	}()
}

// post dispatches ev on the caller's goroutine, in order with the
// connection's other completions.
func (c *stdConn) post(ev *Event) {
	c.dispatch.Lock()
	ev.Owner.Dispatch(ev)
	c.dispatch.Unlock()
}

func (c *stdConn) Recv(ev *Event) {
	c.mu.Lock()
	c.recvEv = ev
	start := !c.reading
	c.reading = true
	c.mu.Unlock()
	if start {
		c.e.wg.Add(1)
		go c.readLoop()
	}
}

// Send hands ev to the busy writer, to the reader when it is dispatching a
// receive (it writes directly once the dispatch returns, so replies cost no
// goroutine switch), or else wakes the writer goroutine.
func (c *stdConn) Send(ev *Event) {
	c.mu.Lock()
	c.sendEv = ev
	if c.writing || c.inRecv {
		c.mu.Unlock()
		return
	}
	c.writing = true
	c.kickWriterLocked()
}

// kickWriterLocked starts the writer goroutine, or wakes it if it is parked,
// and unlocks mu.
func (c *stdConn) kickWriterLocked() {
	start := !c.writerUp
	if start {
		c.writerUp = true
		c.wake = make(chan struct{}, 1)
	}
	wake := c.wake
	c.mu.Unlock()
	if start {
		c.e.wg.Add(1)
		go c.writeLoop()
		return
	}
	nudge(wake)
}

// nudge wakes the goroutine parked on wake, if any; a wake-up already pending
// is enough.
func nudge(wake chan struct{}) {
	select {
	case wake <- struct{}{}:
	default:
	}
}

func (c *stdConn) Close(ev *Event) {
	c.mu.Lock()
	if c.closing {
		c.mu.Unlock()
		return
	}
	c.closing = true
	c.closeEv = ev
	idle := !c.reading && !c.writerUp
	var wake chan struct{}
	if c.writerUp {
		wake = c.wake // a parked writer wakes up to exit
	}
	c.mu.Unlock()
	c.nc.Close()
	nudge(wake)
	if idle {
		// Completions never run on the registering goroutine.
		c.e.wg.Add(1)
		go func() {
			defer c.e.wg.Done()
			c.completeClose()
		}()
	}
}

func (c *stdConn) completeClose() {
	ev := c.closeEv
	if ev == nil {
		return
	}
	ev.N, ev.Err = 0, nil
	c.post(ev)
}

// readLoop serves receives while the owner keeps registering them from its
// Recv completion, which is the common case, without a goroutine per read.
func (c *stdConn) readLoop() {
	defer c.e.wg.Done()
	for {
		c.mu.Lock()
		ev := c.recvEv
		c.recvEv = nil
		if ev == nil {
			c.reading = false
			last := c.closing && !c.writerUp
			c.mu.Unlock()
			if last {
				c.completeClose()
			}
			return
		}
		c.mu.Unlock()

		n, err := c.nc.Read(ev.Buf)
		if n > 0 || err == io.EOF {
			err = nil // bytes first; a clean close reads as 0 bytes
		}
		ev.N, ev.Err = int32(n), err
		if !c.direct.ok() {
			c.post(ev)
			continue
		}
		c.mu.Lock()
		c.inRecv = true
		c.mu.Unlock()
		c.post(ev)
		c.writeDirect()
	}
}

// writeDirect performs the send registered while the reader dispatched, if
// the writer goroutine does not own it, without waiting: what the socket does
// not take at once goes to the writer goroutine.
func (c *stdConn) writeDirect() {
	c.mu.Lock()
	c.inRecv = false
	ev := c.sendEv
	if ev == nil || c.writing {
		c.mu.Unlock()
		return
	}
	c.sendEv = nil
	c.writing = true
	c.mu.Unlock()

	n, rest, err := c.direct.write(ev.Owner.Gather(ev))
	if err == errWouldBlock {
		c.mu.Lock()
		c.wsent, c.wrest = n, rest
		c.sendEv = ev
		c.kickWriterLocked()
		return
	}
	ev.N, ev.Err = int32(n), err
	c.post(ev)
	c.mu.Lock()
	if c.sendEv != nil {
		c.kickWriterLocked() // sends queued meanwhile go to the writer
		return
	}
	c.writing = false
	c.mu.Unlock()
}

// writeLoop performs the sends registered outside the reader's dispatch,
// parking between them, until the connection closes.
func (c *stdConn) writeLoop() {
	defer c.e.wg.Done()
	for {
		c.mu.Lock()
		ev := c.sendEv
		c.sendEv = nil
		if ev == nil {
			c.writing = false
			if c.closing {
				c.writerUp = false
				last := !c.reading
				c.mu.Unlock()
				if last {
					c.completeClose()
				}
				return
			}
			c.mu.Unlock()
			<-c.wake
			continue
		}
		c.writing = true
		bufs, sent := c.wrest, c.wsent
		c.wrest, c.wsent = nil, 0
		c.mu.Unlock()
		if bufs == nil {
			bufs = ev.Owner.Gather(ev)
		}

		c.wbufs = bufs
		n, err := c.wbufs.WriteTo(c.nc)
		c.wbufs = nil
		ev.N, ev.Err = int32(sent+int(n)), err
		c.post(ev)
	}
}
