package servercore

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"

	"servercore/internal/port"
)

// Service owns sessions: a server service accepts them on a listening
// address, a client service connects them to a target (the DummyClient of
// the original). It enforces the session limit, tracks every live session,
// broadcasts, counts traffic and stops cleanly.
type Service struct {
	cfg     Config
	backend string      // the engine's name, chosen by newService
	engine  port.Engine // started by Start
	server  bool
	addr    string      // listen address (server) or target (client)
	count   int         // sessions a client service connects on Start
	tls     *tls.Config // a wss:// service's

	framing framing // how every session's stream is cut and written
	// engineRecvMemory: receives arrive in the engine's memory (Event.Buf
	// set by the engine) instead of the session's receive buffer; the
	// engine says so when Start starts it.
	engineRecvMemory bool
	recvLimits       recvLimits // of every session's receive buffer

	acceptEv port.Event
	ln       port.Listener

	ctx    context.Context // cancelled by Stop: ends connects in progress
	cancel context.CancelFunc

	// mu guards the registry of sessions and the service's state below, and
	// the listener and engine as Start sets them. It is taken before a
	// session's mu (Broadcast and Stop reach sessions under it), never
	// under one, and no callback runs under it.
	mu       sync.RWMutex
	sessions map[*Session]struct{} // connected, not yet released
	live     int                   // sessions created and not yet released
	started  bool
	stopping bool
	drained  chan struct{} // closed when stopping and live reaches 0
	totals   totals        // accept counts

	stopOnce sync.Once
	nextID   atomic.Uint64
	tick     atomic.Uint32 // the idle checker's clock, in ticks

	// held is where sessions' writes wait for the next send tick, when
	// Config.SendInterval is set; nil otherwise.
	held       *heldSends
	background sync.WaitGroup // the idle checker and the send ticker

	traffic     traffic
	disconnects disconnectCounts
	panics      atomic.Uint64 // recovered in handlers and factories

	clock         clock // the service's clock, run by checkTimeouts
	slowCallbacks atomic.Uint64
	log           rareLog // what an operator should see, at most once a second a kind
}

// NewServerService returns a service that will accept sessions on addr
// once started: "host:port" (port 0 picks a free one) for packets over
// TCP, or "ws://host:port/path" for WebSocket sessions ("wss://" with
// Config.TLS, on the std engine).
func NewServerService(addr string, cfg Config) (*Service, error) {
	return newService(true, addr, 0, cfg)
}

// NewClientService returns a service that connects count sessions to target
// ("host:port", or a ws:// or wss:// URL) when started; Connect adds more.
func NewClientService(target string, count int, cfg Config) (*Service, error) {
	if count < 0 {
		return nil, fmt.Errorf("servercore: negative session count %d", count)
	}
	return newService(false, target, count, cfg)
}

func newService(server bool, addr string, count int, cfg Config) (*Service, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	ws, isWS, err := parseWebSocketAddress(addr)
	if err != nil {
		return nil, err
	}
	var wsAddr *wsAddress
	var tlsCfg *tls.Config
	if isWS {
		if cfg.NewPacketSession == nil {
			return nil, fmt.Errorf("servercore: a WebSocket service (%s) needs Config.NewPacketSession", addr)
		}
		if tlsCfg, err = tlsFor(&cfg, ws, server); err != nil {
			return nil, err
		}
		if tlsCfg != nil && cfg.Backend == "auto" {
			cfg.Backend = "std" // the engine that runs TLS
		}
		wsAddr, addr = &ws, ws.hostPort
	}
	backend, why, err := port.Choose(cfg.Backend)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBackendUnavailable, err)
	}
	if tlsCfg != nil && backend != "std" {
		return nil, fmt.Errorf("%w: wss:// runs on the std engine only; terminate TLS in front of the %s engine (a proxy) or set Backend \"std\"", ErrBackendUnavailable, backend)
	}
	switch {
	case why != "" && backend == "std":
		cfg.Logger.Warn("servercore: falling back to the portable engine", "backend", backend, "why", why)
	case why != "":
		cfg.Logger.Info("servercore: backend chosen", "backend", backend, "why", why)
	}
	svc := &Service{
		cfg:      cfg,
		backend:  backend,
		server:   server,
		addr:     addr,
		count:    count,
		sessions: make(map[*Session]struct{}),

		tls:        tlsCfg,
		framing:    newFraming(&cfg, wsAddr, !server),
		recvLimits: newRecvLimits(cfg.RecvBufferSize, cfg.RecvBufferSize/4, cfg.MaxPacketSize+cfg.RecvBufferSize),
		drained:    make(chan struct{}),
	}
	if cfg.SendInterval > 0 {
		svc.held = new(heldSends)
	}
	svc.log.logger = cfg.Logger
	svc.clock = clockOf(&svc.cfg)
	svc.ctx, svc.cancel = context.WithCancel(context.Background())
	svc.acceptEv = port.Event{Type: port.Accept, Owner: (*serviceOwner)(svc)}
	return svc, nil
}

// Backend is the name of the engine the service runs on.
func (svc *Service) Backend() string { return svc.backend }

// Addr is the listening address of a started server service, or the target
// address of a client service.
func (svc *Service) Addr() net.Addr {
	svc.mu.RLock()
	ln := svc.ln
	svc.mu.RUnlock()
	if ln != nil {
		return ln.Addr()
	}
	a, _ := net.ResolveTCPAddr("tcp", svc.addr)
	return a
}

// Start starts the service: a server begins accepting; a client connects its
// sessions and returns the errors of those that failed (wrapping
// ErrConnect), keeping those that connected. ctx bounds the start only.
func (svc *Service) Start(ctx context.Context) error {
	svc.mu.Lock()
	switch {
	case svc.stopping:
		svc.mu.Unlock()
		return ErrServiceClosed
	case svc.started:
		svc.mu.Unlock()
		return errors.New("servercore: service already started")
	}
	engine, err := port.Start(svc.backend, svc.cfg.IOThreads, svc.tls)
	if err != nil {
		svc.mu.Unlock()
		return fmt.Errorf("%w: %w", ErrBackendUnavailable, err)
	}
	svc.engine = engine
	svc.engineRecvMemory = engine.RecvMemory()
	if svc.server {
		// Listen under mu, so that Stop finds the listener to close.
		ln, err := svc.engine.Listen("tcp", svc.addr, &svc.acceptEv)
		if err != nil {
			svc.engine = nil
			svc.mu.Unlock()
			engine.Close()
			return fmt.Errorf("servercore: listen on %s: %w", svc.addr, err)
		}
		svc.ln = ln
	}
	svc.started = true
	if svc.clock.tick > 0 {
		svc.background.Go(svc.checkTimeouts)
	}
	if svc.held != nil {
		svc.background.Go(func() { svc.held.tick(svc.drained, svc.cfg.SendInterval) })
	}
	svc.mu.Unlock()
	if !svc.server {
		return svc.connectAll(ctx)
	}
	return nil
}

// connectAll connects the client's sessions, a few at a time.
func (svc *Service) connectAll(ctx context.Context) error {
	const parallel = 32
	sem := make(chan struct{}, parallel)
	errs := make([]error, svc.count)
	var wg sync.WaitGroup
	for i := range svc.count {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = svc.Connect(ctx)
			<-sem
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// Connect connects one more session of a client service and returns it once
// OnConnected has run.
func (svc *Service) Connect(ctx context.Context) (*Session, error) {
	if svc.server {
		return nil, errors.New("servercore: Connect on a server service")
	}
	svc.mu.Lock()
	switch {
	case svc.stopping:
		svc.mu.Unlock()
		return nil, ErrServiceClosed
	case !svc.started:
		svc.mu.Unlock()
		return nil, errors.New("servercore: Connect before Start")
	case svc.live >= svc.cfg.MaxSessions:
		svc.mu.Unlock()
		return nil, ErrMaxSessions
	}
	svc.live++
	svc.mu.Unlock()

	s := newSession(svc, svc.nextID.Add(1))
	ev, done := s.connectClient()
	dctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(svc.ctx, cancel)
	svc.engine.Connect(dctx, "tcp", svc.addr, ev)
	err := <-done
	stop()
	cancel()
	if err != nil {
		return nil, err
	}
	return s, nil
}

// serviceOwner receives the listener's completions without making Dispatch
// part of Service's API.
type serviceOwner Service

func (o *serviceOwner) Dispatch(ev *port.Event) { (*Service)(o).processAccept(ev) }

func (o *serviceOwner) Gather(*port.Event) [][]byte { return nil }

func (svc *Service) processAccept(ev *port.Event) {
	if ev.Err != nil {
		svc.mu.Lock()
		svc.totals.acceptErrors++
		svc.mu.Unlock()
		svc.log.acceptFailed(ev.Err)
		return
	}
	conn := ev.Conn
	svc.mu.Lock()
	if svc.stopping || svc.live >= svc.cfg.MaxSessions {
		refused := !svc.stopping
		if refused {
			svc.totals.refused++
		}
		svc.mu.Unlock()
		if refused {
			svc.log.refused(conn.RemoteAddr(), svc.cfg.MaxSessions)
		}
		conn.Close(nil)
		return
	}
	svc.live++
	svc.totals.accepted++
	svc.mu.Unlock()
	newSession(svc, svc.nextID.Add(1)).connectAccepted(conn)
}

// admit marks a session that just connected as connected and registers it,
// unless the service stops; both under mu, so that Stop sees it connected.
func (svc *Service) admit(s *Session) bool {
	svc.mu.Lock()
	defer svc.mu.Unlock()
	if svc.stopping {
		return false
	}
	_, upgrades := svc.framing.(*webSocket)
	s.markConnected(svc.tick.Load(), upgrades)
	svc.sessions[s] = struct{}{}
	return true
}

// connectFailed forgets a session that never connected, and tells the
// waiting Connect, if any, why.
func (svc *Service) connectFailed(waiter chan<- error, err error) {
	svc.mu.Lock()
	svc.forget()
	svc.mu.Unlock()
	if waiter != nil {
		if !errors.Is(err, ErrServiceClosed) {
			err = fmt.Errorf("%w: %s: %w", ErrConnect, svc.addr, err)
		}
		waiter <- err
	}
}

// release forgets a session after its OnDisconnected.
func (svc *Service) release(s *Session) {
	svc.mu.Lock()
	delete(svc.sessions, s)
	svc.forget()
	svc.mu.Unlock()
}

// forget counts one session less; it runs under mu.
func (svc *Service) forget() {
	svc.live--
	if svc.stopping && svc.live == 0 {
		close(svc.drained)
	}
}

// Broadcast sends b to every connected session and returns how many queued
// it. b is shared, never copied; the caller keeps its own reference.
func (svc *Service) Broadcast(b *SendBuffer) int {
	svc.mu.RLock()
	defer svc.mu.RUnlock()
	return sendToAll(b, svc.sessions, nil)
}

// Stop stops accepting or connecting and ends every session: each writes
// what it has queued, then disconnects with ErrServiceClosed. Stop returns
// once every OnDisconnected has run and every goroutine and descriptor of
// the service is released. If ctx ends first, the sessions still writing
// are cut, with a cause wrapping ErrSendTimeout and ErrServiceClosed, and
// Stop returns ctx's error; calling Stop again waits for the rest.
//
// Called from a session's callback, where waiting would wait for the
// callback itself, Stop starts all this and returns ErrStopInCallback at
// once; a Stop from elsewhere then waits for the end.
func (svc *Service) Stop(ctx context.Context) error {
	if inCallback() {
		go svc.stopOnce.Do(svc.beginStop)
		return fmt.Errorf("%w: the service is stopping; call Stop again from outside the callbacks to wait for it", ErrStopInCallback)
	}
	svc.stopOnce.Do(svc.beginStop)
	select {
	case <-svc.drained:
	case <-ctx.Done():
		svc.cutDrains()
		return fmt.Errorf("servercore: stop: %w", ctx.Err())
	}
	svc.background.Wait()
	svc.mu.RLock()
	engine := svc.engine
	svc.mu.RUnlock()
	if engine == nil {
		return nil
	}
	return engine.Close()
}

// beginStop refuses new sessions, closes the listener and has every
// session drain.
func (svc *Service) beginStop() {
	svc.mu.Lock()
	svc.stopping = true
	ln := svc.ln
	list := make([]*Session, 0, len(svc.sessions))
	for s := range svc.sessions {
		list = append(list, s)
	}
	if svc.live == 0 {
		close(svc.drained)
	}
	svc.mu.Unlock()

	svc.cancel()
	if ln != nil {
		ln.Close()
	}
	for _, s := range list {
		s.DisconnectAfterSends(ErrServiceClosed, 0)
	}
}

// cutDrains cuts the sessions still writing what they queued before Stop.
func (svc *Service) cutDrains() {
	svc.mu.RLock()
	list := make([]*Session, 0, len(svc.sessions))
	for s := range svc.sessions {
		list = append(list, s)
	}
	svc.mu.RUnlock()
	for _, s := range list {
		s.cutDrain("when Stop's context ended")
	}
}
