package servercore

// Shared helpers of the test suite: a recording application (testApp) whose
// handlers check the callback guarantees of every session they see, and
// server setup. What the tests of other packages need too (leak checks,
// polling, a plain net.Conn packet client) is in internal/testkit.

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"servercore/internal/testkit"
)

// ---------------------------------------------------------------------------
// testApp: a packet application that records and checks every callback.

// packet is one received packet, copied out of the callback.
type packet struct {
	id      uint16
	payload []byte
}

func (p packet) String() string { return fmt.Sprintf("{id %d, %d bytes}", p.id, len(p.payload)) }

type testApp struct {
	// onPacket is the application behaviour; nil means echo.
	onPacket func(ts *testSession, id uint16, payload []byte)
	// onConnected runs inside OnConnected, after the bookkeeping.
	onConnected func(ts *testSession)
	// onDisconnected runs inside OnDisconnected, before the bookkeeping.
	onDisconnected func(ts *testSession, cause error)
	// record keeps a copy of every packet received.
	record bool

	connected    atomic.Int64
	disconnected atomic.Int64

	mu         sync.Mutex
	sessions   []*testSession
	byRemote   map[string]*testSession
	violations []string
	changed    chan struct{} // closed and replaced on every connect/disconnect
}

func newTestApp() *testApp {
	return &testApp{byRemote: make(map[string]*testSession), changed: make(chan struct{})}
}

func (a *testApp) violate(format string, args ...any) {
	a.mu.Lock()
	a.violations = append(a.violations, fmt.Sprintf(format, args...))
	a.mu.Unlock()
}

func (a *testApp) notify() {
	a.mu.Lock()
	close(a.changed)
	a.changed = make(chan struct{})
	a.mu.Unlock()
}

// newPacketSession is the factory of Config.NewPacketSession.
func (a *testApp) newPacketSession() PacketHandler {
	return &testSession{app: a, done: make(chan struct{})}
}

// config returns a Config for a packet service of this app on the portable
// engine, for the fake-connection harness. Tests over real sockets use
// configFor, with the engine testkit.ForEachBackend hands them.
func (a *testApp) config() Config { return a.configFor("std") }

// configFor returns a Config for a packet service of this app on backend.
// A panic in the app's handlers crashes the test (NoRecover), so that a
// broken check is never taken for a recovered handler; the tests of
// recovery turn it back on.
func (a *testApp) configFor(backend string) Config {
	return Config{NewPacketSession: a.newPacketSession, Backend: backend, NoRecover: true}
}

// session waits for the server session whose peer is the client c.
func (a *testApp) session(t testing.TB, c net.Conn) *testSession {
	t.Helper()
	key := c.LocalAddr().String()
	var ts *testSession
	testkit.WaitFor(t, testkit.WaitLong, "the server session of "+key, func() bool {
		a.mu.Lock()
		ts = a.byRemote[key]
		a.mu.Unlock()
		return ts != nil
	})
	return ts
}

// connect dials svc, echoes one packet and returns the client and its
// server session.
func (a *testApp) connect(t testing.TB, svc *Service) (*testkit.Client, *testSession) {
	t.Helper()
	c := testkit.Dial(t, svc.Addr())
	c.Echo(1, nil)
	return c, a.session(t, c)
}

// stuckReader connects a client that never reads, with a small receive
// buffer, and queues on its session far more than the loopback socket
// buffers hold (svc's SendQueueLimit must allow 30 MB), so that its queue
// stays full.
func (a *testApp) stuckReader(t testing.TB, svc *Service) (*testkit.Client, *testSession) {
	t.Helper()
	c := testkit.Dial(t, svc.Addr())
	c.Conn.(*net.TCPConn).SetReadBuffer(4096)
	c.Echo(1, nil)
	ts := a.session(t, c)
	big := bytes.Repeat([]byte{7}, 60000)
	for i := range 500 {
		if err := ts.s.SendPacket(uint16(i), big); err != nil {
			t.Fatalf("SendPacket %d: %v", i, err)
		}
	}
	return c, ts
}

// all returns every session seen so far.
func (a *testApp) all() []*testSession {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.sessions)
}

// check fails t on any violation of the callback guarantees; after the
// service stopped, every connected session must also have disconnected.
func (a *testApp) check(t testing.TB, stopped bool) {
	t.Helper()
	a.mu.Lock()
	v := slices.Clone(a.violations)
	a.mu.Unlock()
	for _, s := range v {
		t.Errorf("callback guarantee violated: %s", s)
	}
	if stopped {
		for _, ts := range a.all() {
			if ts.state.Load() != stateDone {
				t.Errorf("session %d: OnConnected ran but OnDisconnected did not after Stop (state %d)", ts.id, ts.state.Load())
			}
		}
		if c, d := a.connected.Load(), a.disconnected.Load(); c != d {
			t.Errorf("%d sessions connected but %d disconnected after Stop", c, d)
		}
	}
}

const (
	stateNew int32 = iota
	stateOpen
	stateDone
)

// testSession is the handler of one session. Its callbacks check that they
// never overlap, that OnConnected is first and OnDisconnected once and last.
type testSession struct {
	app   *testApp
	s     *Session
	id    uint64
	inCb  atomic.Bool
	state atomic.Int32

	packets atomic.Int64
	sent    atomic.Int64 // sum of OnSend n
	writes  atomic.Int64 // OnSend calls
	cause   error        // set before done is closed
	done    chan struct{}

	mu   sync.Mutex
	recv []packet // when app.record
	user any      // free for a test
}

func (ts *testSession) enter(name string) {
	if !ts.inCb.CompareAndSwap(false, true) {
		ts.app.violate("session %d: %s ran while another callback of the session was running", ts.id, name)
	}
	st := ts.state.Load()
	switch {
	case name == "OnConnected" && st != stateNew:
		ts.app.violate("session %d: OnConnected in state %d", ts.id, st)
	case name != "OnConnected" && st != stateOpen:
		ts.app.violate("session %d: %s in state %d (before OnConnected or after OnDisconnected)", ts.id, name, st)
	}
}

func (ts *testSession) exit() { ts.inCb.Store(false) }

func (ts *testSession) OnConnected(s *Session) {
	ts.s, ts.id = s, s.ID()
	ts.enter("OnConnected")
	defer ts.exit()
	// Connected, or already disconnecting: a Disconnect from another
	// goroutine (Stop, say) may come between the admission and this
	// callback; OnDisconnected then follows.
	if st := s.status(); st != stateConnected && st != stateDraining && st != stateDisconnecting {
		ts.app.violate("session %d: OnConnected in session state %d, neither connected nor disconnecting", ts.id, st)
	}
	ts.state.Store(stateOpen)
	a := ts.app
	a.mu.Lock()
	a.sessions = append(a.sessions, ts)
	if s.svc.server {
		a.byRemote[s.RemoteAddr().String()] = ts
	} else {
		a.byRemote[s.LocalAddr().String()] = ts
	}
	a.mu.Unlock()
	a.connected.Add(1)
	if a.onConnected != nil {
		a.onConnected(ts)
	}
	a.notify()
}

func (ts *testSession) OnRecvPacket(s *Session, id uint16, payload []byte) {
	ts.enter("OnRecvPacket")
	defer ts.exit()
	if s != ts.s {
		ts.app.violate("session %d: OnRecvPacket with another session", ts.id)
	}
	ts.packets.Add(1)
	if ts.app.record {
		ts.mu.Lock()
		ts.recv = append(ts.recv, packet{id, bytes.Clone(payload)})
		ts.mu.Unlock()
	}
	if ts.app.onPacket != nil {
		ts.app.onPacket(ts, id, payload)
		return
	}
	_ = s.SendPacket(id, payload) // echo; fails only once disconnecting
}

func (ts *testSession) OnSend(s *Session, n int) {
	ts.enter("OnSend")
	defer ts.exit()
	if n <= 0 {
		ts.app.violate("session %d: OnSend(%d)", ts.id, n)
	}
	ts.sent.Add(int64(n))
	ts.writes.Add(1)
}

func (ts *testSession) OnDisconnected(s *Session, cause error) {
	ts.enter("OnDisconnected")
	defer ts.exit()
	if cause == nil {
		ts.app.violate("session %d: OnDisconnected with a nil cause", ts.id)
	}
	if s.Connected() {
		ts.app.violate("session %d: Connected() in OnDisconnected", ts.id)
	}
	if ts.app.onDisconnected != nil {
		ts.app.onDisconnected(ts, cause)
	}
	ts.cause = cause
	ts.state.Store(stateDone)
	ts.app.disconnected.Add(1)
	close(ts.done) // a second OnDisconnected panics here, which fails the run
	ts.app.notify()
}

// waitDisconnected waits for OnDisconnected and returns its cause.
func (ts *testSession) waitDisconnected(t testing.TB, d time.Duration) error {
	t.Helper()
	if ts.closed() {
		return ts.cause
	}
	select {
	case <-ts.done:
		return ts.cause
	case <-time.After(d):
		t.Fatalf("session %d: not disconnected after %v", ts.id, d)
		return nil
	}
}

func (ts *testSession) received() []packet {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return slices.Clone(ts.recv)
}

// ---------------------------------------------------------------------------
// Services.

// startServer starts a server service on a free loopback port, on the
// engine cfg.Backend names (which must be set: a conformance test says which
// engine it tests). Unless cfg has a factory, the app's packet handler is
// used. Cleanup stops it and checks the app.
func startServer(t testing.TB, app *testApp, cfg Config) *Service {
	t.Helper()
	if cfg.NewSession == nil && cfg.NewPacketSession == nil {
		cfg.NewPacketSession = app.newPacketSession
	}
	if cfg.Backend == "" {
		t.Fatal("startServer: cfg.Backend is empty; name the engine under test (configFor(backend))")
	}
	svc, err := NewServerService("127.0.0.1:0", cfg)
	if err != nil {
		t.Fatalf("NewServerService: %v", err)
	}
	if err := svc.Start(context.Background()); err != nil {
		t.Fatalf("Start: %v", err)
	}
	if svc.Backend() != cfg.Backend && cfg.Backend != "auto" {
		t.Fatalf("server runs on %q, want %q", svc.Backend(), cfg.Backend)
	}
	t.Cleanup(func() {
		stopService(t, svc)
		if app != nil {
			app.check(t, true)
		}
	})
	return svc
}

// stopService stops svc within testkit.WaitLong.
func stopService(t testing.TB, svc *Service) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testkit.WaitLong)
	defer cancel()
	if err := svc.Stop(ctx); err != nil {
		t.Errorf("Stop: %v", err)
	}
}
