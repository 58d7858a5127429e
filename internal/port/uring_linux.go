package port

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"

	"servercore/internal/uring"
)

// Uring is the io_uring engine: a true completion port on Linux. It runs one
// loop per CPU; each loop is a goroutine locked to its OS thread that owns
// one ring, submits operations with their events and dispatches their
// completions. Other goroutines reach a loop through its inbox and wake it
// with an eventfd; they never touch the ring.
type Uring struct {
	loops []*uloop
	next  atomic.Uint32 // round-robin for Connect
	wg    sync.WaitGroup
	once  sync.Once
}

// The ops the loops need; the engine refuses to start without them.
var uringOps = []uint8{
	uring.IORING_OP_ACCEPT, uring.IORING_OP_CONNECT, uring.IORING_OP_RECV,
	uring.IORING_OP_SEND, uring.IORING_OP_SENDMSG, uring.IORING_OP_READ, uring.IORING_OP_ASYNC_CANCEL,
	uring.IORING_OP_TIMEOUT,
}

// ProbeUring reports whether the io_uring engine can run here, and why not.
// Setting SERVERCORE_URING=off in the environment makes it fail, to force
// the portable engine.
func ProbeUring() error {
	if os.Getenv("SERVERCORE_URING") == "off" {
		return errors.New("disabled by SERVERCORE_URING=off")
	}
	info, err := uring.Probe()
	if err != nil {
		return err
	}
	return info.Ops.Require(uringOps...)
}

// NewUring starts the io_uring engine with n loops (GOMAXPROCS if n <= 0).
func NewUring(n int) (Engine, error) {
	if err := ProbeUring(); err != nil {
		return nil, err
	}
	if n <= 0 {
		n = runtime.GOMAXPROCS(0)
	}
	e := &Uring{}
	for i := range n {
		l, err := e.startLoop(i)
		if err != nil {
			e.Close()
			return nil, err
		}
		e.loops = append(e.loops, l)
	}
	return e, nil
}

// Name implements Engine.
func (e *Uring) Name() string { return "uring" }

// RecvMemory implements Engine: receives land in the loop's provided buffers.
func (e *Uring) RecvMemory() bool { return true }

// Close implements Engine: it stops the loops and waits for them.
func (e *Uring) Close() error {
	e.once.Do(func() {
		for _, l := range e.loops {
			l.post(uop{kind: opStop})
		}
	})
	e.wg.Wait()
	return nil
}

// Op kinds, in the low byte of user_data and in inbox requests.
const (
	opWake uint8 = iota + 1
	opAccept
	opAcceptRetry
	opConnect
	opRecv
	opSend
	opCancel // completions of cancel requests: nothing to do

	// Inbox-only requests.
	opClose
	opListen
	opUnlisten
	opAdopt
	opConnectCancel
	opStop
)

// userData packs what a completion belongs to: a slot, the slot's
// generation (so a reused slot never receives a stale completion) and the
// op kind.
func userData(slot, gen uint32, kind uint8) uint64 {
	return uint64(slot)<<32 | uint64(gen&genMask)<<8 | uint64(kind)
}

func splitUserData(ud uint64) (slot, gen uint32, kind uint8) {
	return uint32(ud >> 32), uint32(ud>>8) & genMask, uint8(ud)
}

// genMask keeps the 24 bits of a generation that user data carries.
const genMask = 1<<24 - 1

// uop is a request to a loop from any goroutine.
type uop struct {
	kind uint8
	fd   int32 // opAdopt: the accepted connection
	c    *uconn
	ev   *Event
	l    *uringListener
}

// Loop sizes.
const (
	ringEntries  = 1024
	cqEntries    = 8192
	recvBufFirst = 64   // receive buffers a loop provides at first
	recvBufMax   = 4096 // and at most, doubling when receives run out
	recvBufSize  = 4096
	sendMsgSlots = 1 << 15 // sends in flight per loop
	sendIovecs   = 64      // buffers per gathered send; more go in the next round
)

// sendMsg is the off-heap msghdr and iovecs of one send in flight.
type sendMsg struct {
	hdr uring.Msghdr
	iov [sendIovecs]uring.Iovec
}

// errNoSendSlot fails a send that found no free sendMsg slot.
var errNoSendSlot = errors.New("port: too many sends in flight")

// eventfdOne is what a wake-up writes to a loop's eventfd: the number 1.
var eventfdOne = func() (b [8]byte) {
	binary.NativeEndian.PutUint64(b[:], 1)
	return b
}()

func (e *Uring) startLoop(i int) (*uloop, error) {
	l := &uloop{e: e, id: i, efd: -1}
	ready := make(chan error, 1)
	e.wg.Add(1)
	go l.run(ready)
	if err := <-ready; err != nil {
		return nil, fmt.Errorf("io_uring loop %d: %w", i, err)
	}
	return l, nil
}

// uloop is one ring and the connections it serves. Fields below mu are
// shared with other goroutines; the rest belong to the loop's goroutine.
type uloop struct {
	e    *Uring
	id   int
	ring *uring.Ring
	bufs *uring.BufRing
	msgs *uring.Slab[sendMsg]
	wake *uring.Slab[uint64]         // the eventfd read's buffer
	ts   *uring.Slab[uring.Timespec] // the accept retry delay
	efd  int

	conns     []*uconn // by slot; nil when free
	freeSlots []freeSlot
	listeners []*loopListener // by listener slot, on the loop that accepts
	cqes      []uring.CQE
	rearm     []*uconn                           // multishot receives that ran out of buffers
	sa        unix.RawSockaddrAny                // scratch for getsockname and getpeername
	locals    map[netip.AddrPort]*netip.AddrPort // shared local addresses of accepted connections
	stopping  bool
	recycled  bool // buffers recycled since the last Publish

	sleeping atomic.Bool
	handed   atomic.Int32 // connections handed to the loop and not adopted yet
	mu       sync.Mutex
	inbox    []uop
	spare    []uop
}

func (l *uloop) run(ready chan<- error) {
	defer l.e.wg.Done()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := l.init(); err != nil {
		l.teardown()
		ready <- err
		return
	}
	ready <- nil
	for !l.stopping || l.busy() {
		l.drain()
		l.wait()
		l.reap()
	}
	l.teardown()
}

func (l *uloop) init() error {
	l.locals = make(map[netip.AddrPort]*netip.AddrPort)
	var err error
	if l.ring, err = uring.New(uring.Options{Entries: ringEntries, CQEntries: cqEntries}); err != nil {
		return err
	}
	if l.bufs, err = l.ring.NewBufRing(0, recvBufMax, recvBufSize, recvBufFirst); err != nil {
		return err
	}
	if l.msgs, err = uring.NewSlab[sendMsg](sendMsgSlots); err != nil {
		return err
	}
	if l.wake, err = uring.NewSlab[uint64](1); err != nil {
		return err
	}
	if l.ts, err = uring.NewSlab[uring.Timespec](1); err != nil {
		return err
	}
	if l.efd, err = unix.Eventfd(0, unix.EFD_CLOEXEC); err != nil {
		l.efd = -1
		return fmt.Errorf("eventfd: %w", err)
	}
	l.ts.At(0).Set(acceptRetryDelay)
	l.cqes = make([]uring.CQE, 512)
	l.conns = []*uconn{nil} // slot 0 is the loop's own
	l.armWake()
	return nil
}

func (l *uloop) teardown() {
	for _, c := range l.conns {
		if c != nil && c.fd >= 0 {
			unix.Close(int(c.fd))
		}
	}
	if l.ring != nil {
		l.ring.Close() // closes the BufRing too
	}
	if l.msgs != nil {
		l.msgs.Close()
	}
	if l.wake != nil {
		l.wake.Close()
	}
	if l.ts != nil {
		l.ts.Close()
	}
	if l.efd >= 0 {
		unix.Close(l.efd)
	}
}

// busy reports whether connections or listeners still need the loop.
func (l *uloop) busy() bool {
	return len(l.conns)-1 > len(l.freeSlots) || len(l.listeners) > 0
}

// post queues a request for the loop and wakes it if it sleeps.
func (l *uloop) post(op uop) {
	l.mu.Lock()
	l.inbox = append(l.inbox, op)
	l.mu.Unlock()
	if l.sleeping.Load() && l.sleeping.CompareAndSwap(true, false) {
		unix.Write(l.efd, eventfdOne[:])
	}
}

// sqe returns a free submission entry, submitting what is queued if the
// submission queue is full.
func (l *uloop) sqe() *uring.SQE {
	for {
		if s := l.ring.NextSQE(); s != nil {
			return s
		}
		l.ring.Submit()
	}
}

func (l *uloop) armWake() {
	s := l.sqe()
	s.PrepRead(l.efd, unsafe.Slice((*byte)(unsafe.Pointer(l.wake.At(0))), 8), 0)
	s.UserData = userData(0, 0, opWake)
}

// drain handles the requests other goroutines queued.
func (l *uloop) drain() {
	l.mu.Lock()
	ops := l.inbox
	l.inbox, l.spare = l.spare[:0], nil
	l.mu.Unlock()
	for i := range ops {
		op := &ops[i]
		switch op.kind {
		case opSend:
			op.c.startSend(op.ev)
		case opClose:
			op.c.startClose(op.ev)
		case opConnect:
			op.c.startConnect()
		case opConnectCancel:
			op.c.cancelConnect()
		case opListen:
			l.listen(op.l)
		case opUnlisten:
			l.unlisten(op.l)
		case opAdopt:
			l.handed.Add(-1)
			l.adopt(op.l, int(op.fd))
			op.l.release()
		case opStop:
			l.stopping = true
		}
		*op = uop{}
	}
	l.mu.Lock()
	if l.spare == nil {
		l.spare = ops[:0]
	}
	l.mu.Unlock()
}

// wait submits what was prepared and waits for at least one completion,
// unless requests arrived meanwhile.
func (l *uloop) wait() {
	if l.stopping && !l.busy() {
		l.ring.SubmitAndWait(0)
		return
	}
	l.sleeping.Store(true)
	l.mu.Lock()
	pending := len(l.inbox) > 0
	l.mu.Unlock()
	if pending || l.ring.CQReady() > 0 {
		l.sleeping.Store(false)
		l.ring.SubmitAndWait(0)
		return
	}
	l.ring.SubmitAndWait(1)
	l.sleeping.Store(false)
}

// reap dispatches every completion ready, in batches.
func (l *uloop) reap() {
	for {
		n := l.ring.PeekBatch(l.cqes)
		if n == 0 {
			break
		}
		for i := range n {
			l.complete(&l.cqes[i])
		}
		if n < len(l.cqes) {
			break
		}
	}
	if l.recycled {
		l.bufs.Publish()
		l.recycled = false
	}
	if len(l.rearm) > 0 {
		// Receives ran out of buffers: the traffic wants more of them.
		l.bufs.Provide(l.bufs.Provided())
	}
	for i, c := range l.rearm {
		c.armRecv()
		l.rearm[i] = nil
	}
	l.rearm = l.rearm[:0]
}

func (l *uloop) complete(cqe *uring.CQE) {
	slot, gen, kind := splitUserData(cqe.UserData)
	switch kind {
	case opWake:
		l.armWake()
		return
	case opCancel:
		return
	case opAccept, opAcceptRetry:
		if int(slot) < len(l.listeners) && l.listeners[slot] != nil {
			l.listeners[slot].complete(l, slot, kind, cqe)
		}
		return
	}
	if int(slot) >= len(l.conns) {
		return
	}
	c := l.conns[slot]
	if c == nil || c.gen != gen {
		// A stale completion of a slot that was reused.
		if id, ok := cqe.BufferID(); ok {
			l.recycle(id)
		}
		return
	}
	switch kind {
	case opConnect:
		c.connected(cqe)
	case opRecv:
		c.received(cqe)
	case opSend:
		c.sent(cqe)
	}
}

func (l *uloop) recycle(id uint16) {
	l.bufs.Recycle(id)
	l.recycled = true
}

// freeSlot is a slot of l.conns no connection holds, and the generation
// of its last holder.
type freeSlot struct{ slot, gen uint32 }

// addConn gives c a slot in the loop, with a generation its slot's earlier
// holders did not have.
func (l *uloop) addConn(c *uconn) {
	if n := len(l.freeSlots); n > 0 {
		f := l.freeSlots[n-1]
		l.freeSlots = l.freeSlots[:n-1]
		c.slot, c.gen = f.slot, (f.gen+1)&genMask
	} else {
		c.slot, c.gen = uint32(len(l.conns)), 0
		l.conns = append(l.conns, nil)
	}
	l.conns[c.slot] = c
}

// removeConn frees c's slot; its generation changes with the next holder.
func (l *uloop) removeConn(c *uconn) {
	l.conns[c.slot] = nil
	l.freeSlots = append(l.freeSlots, freeSlot{c.slot, c.gen})
}

// cancel prepares a cancel of the request with user data ud.
func (l *uloop) cancel(ud uint64) {
	s := l.sqe()
	s.PrepCancel(ud, 0)
	s.UserData = userData(0, 0, opCancel)
}

// errnoErr turns a negative completion result into an error that names the
// operation.
func errnoErr(op string, res int32) error {
	return &opError{op: op, err: unix.Errno(-res)}
}

type opError struct {
	op  string
	err error
}

func (e *opError) Error() string { return e.op + ": " + e.err.Error() }
func (e *opError) Unwrap() error { return e.err }
