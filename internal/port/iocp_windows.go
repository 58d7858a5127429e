package port

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"sync"
	"unsafe"

	"golang.org/x/sys/windows"
)

// IOCP is the Windows engine, the system servercore ports: one I/O
// completion port, overlapped sockets, AcceptEx pre-posted by listeners,
// ConnectEx, WSARecv into the owner's buffer, one gathered WSASend per
// round, and DisconnectEx(TF_REUSE_SOCKET) feeding a pool of sockets that
// later accepts and connects reuse. Worker goroutines reap completions in
// batches with GetQueuedCompletionStatusEx; each completion finds its
// operation through its OVERLAPPED, the first field of the operation record.
//
// Completions of one connection are serialised by the connection's dispatch
// lock, whichever worker reaps them, and operations that complete at once
// (SKIP_COMPLETION_PORT_ON_SUCCESS) are dispatched by the worker after the
// dispatch that registered them returns, never from inside Recv or Send.
type IOCP struct {
	port    windows.Handle
	ext     *wsaExtensions
	workers int
	accepts int  // AcceptEx calls each listener keeps posted
	skip    bool // set SKIP_COMPLETION_PORT_ON_SUCCESS on connection sockets
	reuse   bool // DisconnectEx(TF_REUSE_SOCKET) and the socket pool

	wg   sync.WaitGroup // the workers
	once sync.Once

	mu       sync.Mutex
	live     map[any]struct{} // conns and listeners the kernel may still complete for: keeps them reachable
	pool     map[int32][]pooledSocket
	discs    map[*iconn]struct{} // DisconnectEx calls in flight
	discDone chan struct{}       // closed when discs drains while closing
	closing  bool
}

// pooledSocket is a socket DisconnectEx(TF_REUSE_SOCKET) prepared for reuse:
// it stays associated with the port, with its completion mode.
type pooledSocket struct {
	s    windows.Handle
	skip bool
}

// Engine defaults and limits.
const (
	defaultAccepts   = 32   // AcceptEx calls posted per listener
	maxPooledSockets = 1024 // reusable sockets kept per address family
	completionBatch  = 64   // completions reaped per GetQueuedCompletionStatusEx
	maxWSABufs       = 1024 // buffers per gathered WSASend; more go in the next round
	inlineBudget     = 16   // completions at once a worker dispatches in a row for one conn before queueing the next
	keyStop          = 1    // completion key of the packets that stop workers
)

// Operation kinds, in ioOp.kind.
const (
	iocpRecv uint8 = iota + 1
	iocpSend
	iocpConnect
	iocpKick       // a posted packet: run the conn's pending work on a worker
	iocpDisconnect // DisconnectEx(TF_REUSE_SOCKET) after the conn closed
	iocpAccept
)

// ioOp is the record of one overlapped operation. The OVERLAPPED must stay
// its first field: a completion's OVERLAPPED pointer is the op's address.
type ioOp struct {
	ov   windows.Overlapped
	kind uint8
	c    *iconn
	a    *acceptOp
}

// reset clears the OVERLAPPED for the next call.
func (op *ioOp) reset() { op.ov = windows.Overlapped{} }

// opOf maps a completion's OVERLAPPED back to its operation.
func opOf(ov *windows.Overlapped) *ioOp { return (*ioOp)(unsafe.Pointer(ov)) }

var (
	probeOnce sync.Once
	probeErr  error
)

// ProbeIOCP reports whether the iocp engine can run here, and why not.
// Setting SERVERCORE_IOCP=off in the environment makes it fail, to force
// the portable engine.
func ProbeIOCP() error {
	if os.Getenv("SERVERCORE_IOCP") == "off" {
		return errors.New("disabled by SERVERCORE_IOCP=off")
	}
	probeOnce.Do(func() {
		if err := procGetQueuedCompletionStatusEx.Find(); err != nil {
			probeErr = err
			return
		}
		if _, err := loadExtensions(); err != nil {
			probeErr = err
			return
		}
		port, err := windows.CreateIoCompletionPort(windows.InvalidHandle, 0, 0, 1)
		if err != nil {
			probeErr = fmt.Errorf("CreateIoCompletionPort: %w", err)
			return
		}
		windows.CloseHandle(port)
	})
	return probeErr
}

// iocpConfig tunes an engine; tests use it to force one path.
type iocpConfig struct {
	workers int // worker goroutines; GOMAXPROCS if <= 0
	accepts int // AcceptEx posted per listener; defaultAccepts if <= 0
	noSkip  bool
	noReuse bool
}

// NewIOCP starts the iocp engine with the given number of worker goroutines
// (GOMAXPROCS if workers <= 0) and AcceptEx calls each listener keeps
// posted (32 if accepts <= 0).
func NewIOCP(workers, accepts int) (Engine, error) {
	return newIOCP(iocpConfig{workers: workers, accepts: accepts})
}

func newIOCP(cfg iocpConfig) (*IOCP, error) {
	if err := ProbeIOCP(); err != nil {
		return nil, err
	}
	ext, _ := loadExtensions()
	if cfg.workers <= 0 {
		cfg.workers = runtime.GOMAXPROCS(0)
	}
	if cfg.accepts <= 0 {
		cfg.accepts = defaultAccepts
	}
	port, err := windows.CreateIoCompletionPort(windows.InvalidHandle, 0, 0, uint32(cfg.workers))
	if err != nil {
		return nil, fmt.Errorf("CreateIoCompletionPort: %w", err)
	}
	e := &IOCP{
		port:    port,
		ext:     ext,
		workers: cfg.workers,
		accepts: cfg.accepts,
		skip:    !cfg.noSkip && skipCompletionPortOK(),
		// Wine cannot reuse a socket after DisconnectEx ("Reusing socket
		// not supported yet"): its next ConnectEx fails with WSAEISCONN and
		// an AcceptEx into it never receives. Close sockets there instead.
		reuse: !cfg.noReuse && ext.disconnectEx != 0 && !isWine(),
		live:  make(map[any]struct{}),
		pool:  make(map[int32][]pooledSocket),
		discs: make(map[*iconn]struct{}),
	}
	for range e.workers {
		e.wg.Add(1)
		go e.worker()
	}
	return e, nil
}

// Name implements Engine.
func (e *IOCP) Name() string { return "iocp" }

// RecvMemory implements Engine: WSARecv writes into the owner's Event.Buf.
func (e *IOCP) RecvMemory() bool { return false }

// Close implements Engine. Listeners and connections are closed first; it
// cancels the DisconnectEx calls still waiting (TIME_WAIT can hold them),
// closes the pooled sockets, stops the workers and closes the port.
func (e *IOCP) Close() error {
	e.once.Do(func() {
		e.mu.Lock()
		e.closing = true
		var waiting []*iconn
		for c := range e.discs {
			waiting = append(waiting, c)
		}
		var done chan struct{}
		if len(waiting) > 0 {
			done = make(chan struct{})
			e.discDone = done
		}
		pool := e.pool
		e.pool = make(map[int32][]pooledSocket)
		e.mu.Unlock()
		for _, c := range waiting {
			windows.CancelIoEx(c.s, &c.discOp.ov)
		}
		if done != nil {
			<-done
		}
		for _, list := range pool {
			for _, p := range list {
				windows.Closesocket(p.s)
			}
		}
		for range e.workers {
			e.stopWorker()
		}
		e.wg.Wait()
		windows.CloseHandle(e.port)
	})
	e.wg.Wait()
	return nil
}

func (e *IOCP) stopWorker() {
	windows.PostQueuedCompletionStatus(e.port, 0, keyStop, nil)
}

// worker reaps completions in batches and handles each.
func (e *IOCP) worker() {
	defer e.wg.Done()
	entries := make([]overlappedEntry, completionBatch)
	for {
		n, err := getQueuedCompletionStatusEx(e.port, entries, windows.INFINITE)
		if err != nil {
			if err == windows.WAIT_TIMEOUT {
				continue
			}
			return // the port was closed
		}
		stops := 0
		for i := range entries[:n] {
			en := &entries[i]
			switch {
			case en.ov != nil:
				e.complete(opOf(en.ov), en.qty)
			case en.key == keyStop:
				stops++
			}
			*en = overlappedEntry{} // hold no op between batches
		}
		if stops > 0 {
			// Each worker takes one stop; pass on the others it reaped.
			for range stops - 1 {
				e.stopWorker()
			}
			return
		}
	}
}

// complete handles one completion.
func (e *IOCP) complete(op *ioOp, qty uint32) {
	switch op.kind {
	case iocpRecv, iocpSend, iocpConnect:
		op.c.completed(op, int(qty))
	case iocpKick:
		op.c.kicked()
	case iocpDisconnect:
		var err error
		if op.ov.Internal != 0 {
			err = overlappedErr("disconnectex", op.c.s, &op.ov)
		}
		op.c.disconnected(err)
	case iocpAccept:
		op.a.completed()
	}
}

// post queues a completion of op to the port, as if the kernel had queued
// it: for operations that completed at once on a socket that skips the port.
func (e *IOCP) post(op *ioOp, qty uint32) error {
	return windows.PostQueuedCompletionStatus(e.port, qty, 0, &op.ov)
}

// track keeps x reachable while the kernel may complete operations for it.
func (e *IOCP) track(x any) {
	e.mu.Lock()
	e.live[x] = struct{}{}
	e.mu.Unlock()
}

func (e *IOCP) untrack(x any) {
	e.mu.Lock()
	delete(e.live, x)
	e.mu.Unlock()
}

// socket returns an overlapped TCP socket of family associated with the
// port: a pooled one if reuse is allowed and one is there, else a new one.
func (e *IOCP) socket(family int32, reuse bool) (s windows.Handle, skip, reused bool, err error) {
	if reuse {
		e.mu.Lock()
		list := e.pool[family]
		if n := len(list); n > 0 {
			p := list[n-1]
			e.pool[family] = list[:n-1]
			e.mu.Unlock()
			return p.s, p.skip, true, nil
		}
		e.mu.Unlock()
	}
	s, err = windows.WSASocket(family, windows.SOCK_STREAM, windows.IPPROTO_TCP, nil, 0,
		windows.WSA_FLAG_OVERLAPPED|windows.WSA_FLAG_NO_HANDLE_INHERIT)
	if err != nil {
		return windows.InvalidHandle, false, false, newSockError("wsasocket", err)
	}
	if _, err = windows.CreateIoCompletionPort(s, e.port, 0, 0); err != nil {
		windows.Closesocket(s)
		return windows.InvalidHandle, false, false, newSockError("createiocompletionport", err)
	}
	if e.skip {
		skip = windows.SetFileCompletionNotificationModes(s,
			windows.FILE_SKIP_COMPLETION_PORT_ON_SUCCESS|windows.FILE_SKIP_SET_EVENT_ON_HANDLE) == nil
	}
	return s, skip, false, nil
}

// PoolSize reports how many reusable sockets the engine holds; for tests
// and diagnostics.
func (e *IOCP) PoolSize() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for _, list := range e.pool {
		n += len(list)
	}
	return n
}

// recycle hands a socket whose DisconnectEx completed to the pool, or
// closes it when the pool is full or the engine closing.
func (e *IOCP) recycle(c *iconn, err error) {
	e.mu.Lock()
	delete(e.discs, c)
	delete(e.live, c)
	keep := err == nil && !e.closing && len(e.pool[c.family]) < maxPooledSockets
	if keep {
		e.pool[c.family] = append(e.pool[c.family], pooledSocket{s: c.s, skip: c.skip})
	}
	if e.discDone != nil && len(e.discs) == 0 {
		close(e.discDone)
		e.discDone = nil
	}
	e.mu.Unlock()
	if !keep {
		windows.Closesocket(c.s)
	}
}
