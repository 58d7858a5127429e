package servercore

// Shared helpers of the test suite: a recording application (testApp) whose
// handlers check the callback guarantees of every session they see, server
// and client setup, a plain net.Conn packet client, polling, and the
// goroutine and file-descriptor leak checks.

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// Generous bounds: the suite runs on two noisy cores under -race.
const (
	waitLong  = 20 * time.Second // upper bound of anything that must happen
	waitShort = 5 * time.Second
)

// waitFor polls cond until it holds or d passes, then fails the test with msg.
func waitFor(t testing.TB, d time.Duration, msg string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, msg)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// waitUntil polls cond until it holds, and reports whether it did within d.
func waitUntil(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(2 * time.Millisecond)
	}
	return true
}

// recvOf waits for a value on ch.
func recvOf[T any](t testing.TB, ch <-chan T, d time.Duration, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(d):
		t.Fatalf("timed out after %v waiting for %s", d, what)
	}
	var zero T
	return zero
}

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
// configFor, with the engine forEachBackend hands them.
func (a *testApp) config() Config {
	return Config{NewPacketSession: a.newPacketSession, Backend: "std"}
}

// configFor returns a Config for a packet service of this app on backend.
func (a *testApp) configFor(backend string) Config {
	return Config{NewPacketSession: a.newPacketSession, Backend: backend}
}

// session waits for the server session whose peer is the client c.
func (a *testApp) session(t testing.TB, c net.Conn) *testSession {
	t.Helper()
	key := c.LocalAddr().String()
	var ts *testSession
	waitFor(t, waitLong, "the server session of "+key, func() bool {
		a.mu.Lock()
		ts = a.byRemote[key]
		a.mu.Unlock()
		return ts != nil
	})
	return ts
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
	if st := s.status(); st != stateConnected && st != stateDisconnecting {
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

// stopService stops svc within waitLong.
func stopService(t testing.TB, svc *Service) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLong)
	defer cancel()
	if err := svc.Stop(ctx); err != nil {
		t.Errorf("Stop: %v", err)
	}
}

// ---------------------------------------------------------------------------
// A packet client on a plain net.Conn.

type client struct {
	t testing.TB
	net.Conn
	hdr [HeaderSize]byte
}

func dial(t testing.TB, addr net.Addr) *client {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr.String(), waitShort)
	if err != nil {
		t.Fatalf("dial %v: %v", addr, err)
	}
	t.Cleanup(func() { c.Close() })
	return &client{t: t, Conn: c}
}

// appendPacket appends the packet (id, payload) to b.
func appendPacket(b []byte, id uint16, payload []byte) []byte {
	b = binary.LittleEndian.AppendUint16(b, uint16(HeaderSize+len(payload)))
	b = binary.LittleEndian.AppendUint16(b, id)
	return append(b, payload...)
}

// write writes b within waitLong.
func (c *client) write(b []byte) error {
	c.SetWriteDeadline(time.Now().Add(waitLong))
	_, err := c.Write(b)
	return err
}

func (c *client) mustWrite(b []byte) {
	c.t.Helper()
	if err := c.write(b); err != nil {
		c.t.Fatalf("client write: %v", err)
	}
}

func (c *client) send(id uint16, payload []byte) {
	c.t.Helper()
	c.mustWrite(appendPacket(nil, id, payload))
}

// readPacket reads one packet within d into buf (grown if needed) and
// returns its id and payload.
func (c *client) readPacket(d time.Duration, buf []byte) (uint16, []byte, error) {
	c.SetReadDeadline(time.Now().Add(d))
	if _, err := io.ReadFull(c, c.hdr[:]); err != nil {
		return 0, nil, err
	}
	h := ReadPacketHeader(c.hdr[:])
	if h.Size < HeaderSize {
		return 0, nil, fmt.Errorf("bad size %d from the server", h.Size)
	}
	n := int(h.Size) - HeaderSize
	if cap(buf) < n {
		buf = make([]byte, n)
	}
	buf = buf[:n]
	if _, err := io.ReadFull(c, buf); err != nil {
		return 0, nil, err
	}
	return h.ID, buf, nil
}

// expect reads one packet and fails unless it is (id, payload).
func (c *client) expect(id uint16, payload []byte) {
	c.t.Helper()
	gid, gp, err := c.readPacket(waitLong, nil)
	if err != nil {
		c.t.Fatalf("reading the packet (id %d, %d bytes): %v", id, len(payload), err)
	}
	if gid != id || !bytes.Equal(gp, payload) {
		c.t.Fatalf("got packet id %d payload %.40q (%d bytes), want id %d payload %.40q (%d bytes)", gid, gp, len(gp), id, payload, len(payload))
	}
}

// echo sends a packet and expects it back.
func (c *client) echo(id uint16, payload []byte) {
	c.t.Helper()
	c.send(id, payload)
	c.expect(id, payload)
}

// expectClosed fails unless the server closes the connection within d: a
// read returns EOF or a reset, not a timeout. Bytes before are discarded.
func (c *client) expectClosed(d time.Duration) {
	c.t.Helper()
	c.SetReadDeadline(time.Now().Add(d))
	buf := make([]byte, 4096)
	for {
		_, err := c.Read(buf)
		if err == nil {
			continue
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			c.t.Fatalf("the server did not close the connection within %v", d)
		}
		return // io.EOF or ECONNRESET
	}
}

// payloadOf returns a deterministic payload of n bytes for seed.
func payloadOf(seed, n int) []byte {
	p := make([]byte, n)
	for i := range p {
		p[i] = byte(seed*31 + i*7 + i>>8)
	}
	return p
}

// resetErrors are the errors a connection reset by its peer wraps; the
// Windows test files add the Winsock ones.
var resetErrors = []error{syscall.ECONNRESET}

// isReset reports whether err says the peer reset the connection.
func isReset(err error) bool {
	for _, e := range resetErrors {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// ---------------------------------------------------------------------------
// Leak checks.

// goroutines returns the stacks of the running goroutines by id.
func goroutines() map[string]string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	m := make(map[string]string)
	for _, g := range strings.Split(string(buf), "\n\n") {
		// "goroutine 12 [running]:"
		f := strings.Fields(g)
		if len(f) >= 2 && f[0] == "goroutine" {
			if _, err := strconv.Atoi(f[1]); err == nil {
				m[f[1]] = g
			}
		}
	}
	return m
}

// ignoredGoroutine reports goroutines that belong to the runtime or the
// testing framework rather than to the code under test.
func ignoredGoroutine(stack string) bool {
	for _, s := range []string{
		"testing.(*T).Run(",
		"testing.tRunner(",
		"testing.(*M).",
		"testing.runTests",
		"testing.runFuzzing",
		"testing.(*F).",
		"testing/internal/testdeps.",
		"os/signal.signal_recv",
		"os/signal.loop",
		"runtime.goexit0",
		"runtime.ReadTrace",
		"runtime/trace.Start",
		"internal/fuzz.",
	} {
		if strings.Contains(stack, s) {
			return true
		}
	}
	return false
}

// fdCount is the number of open descriptors, or -1 off Linux, where
// /proc/self/fd is missing or (under Wine) describes another process.
func fdCount() int {
	if runtime.GOOS != "linux" {
		return -1
	}
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return -1
	}
	return len(ents)
}

// leakWait is how long leakCheck polls for goroutines and descriptors to go.
var leakWait = 5 * time.Second

// leakCheck snapshots goroutines and descriptors; the returned function,
// called after everything was stopped and closed, fails t if any goroutine
// started since remains after ~5 s of polling, or if more descriptors are
// open than before.
func leakCheck(t testing.TB) func() {
	t.Helper()
	// Make the runtime's own lazily created descriptors (netpoll) exist
	// before the snapshot.
	if ln, err := net.Listen("tcp", "127.0.0.1:0"); err == nil {
		ln.Close()
	}
	before := goroutines()
	fds := fdCount()
	return func() {
		t.Helper()
		var leaked []string
		deadline := time.Now().Add(leakWait)
		for {
			leaked = leaked[:0]
			for id, g := range goroutines() {
				if _, ok := before[id]; !ok && !ignoredGoroutine(g) {
					leaked = append(leaked, g)
				}
			}
			if len(leaked) == 0 || time.Now().After(deadline) {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		if len(leaked) > 0 {
			t.Errorf("%d goroutines leaked:\n\n%s", len(leaked), strings.Join(leaked, "\n\n"))
		}
		if fds < 0 {
			t.Log("descriptor leak check skipped: /proc/self/fd is not available on this system")
			return
		}
		var now int
		for end := time.Now().Add(leakWait); ; time.Sleep(20 * time.Millisecond) {
			if now = fdCount(); now <= fds || time.Now().After(end) {
				break
			}
		}
		if now > fds {
			t.Errorf("descriptors leaked: %d open before, %d after", fds, now)
		}
	}
}

// recordTB is a testing.TB that records failures instead of failing, to
// test the helpers themselves.
type recordTB struct {
	testing.TB
	mu     sync.Mutex
	errors []string
}

func (r *recordTB) Helper() {}
func (r *recordTB) Errorf(format string, args ...any) {
	r.mu.Lock()
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
	r.mu.Unlock()
}
func (r *recordTB) Logf(string, ...any) {}
func (r *recordTB) Log(...any)          {}
