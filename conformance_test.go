package servercore

// The conformance suite: every test over real loopback sockets runs once
// per engine available on the platform, as a subtest named after the
// engine, through testkit.ForEachBackend. This file has the tests that
// hold every engine to the same behaviour beyond the basics: connect and
// disconnect cycles without descriptor growth, the fallback of "auto",
// client sessions under load, and maximum-size packets.
//
// An engine that cannot run here is not silently passed: its subtest is
// skipped with the probe's exact reason, and TestConformanceEngines logs
// which engines ran. SERVERCORE_TEST_REQUIRE=uring (a comma-separated list
// of engines) turns that skip into a failure, for machines that must test
// the engine.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"servercore/internal/port"
	"servercore/internal/testkit"
)

// TestConformanceEngines says which engines the conformance suite runs on
// here, and why any is left out.
func TestConformanceEngines(t *testing.T) {
	var ran, skipped []string
	for _, backend := range testkit.Backends() {
		if err := testkit.Probe(backend); err != nil {
			if testkit.Required(backend) {
				t.Errorf("engine %q is required (SERVERCORE_TEST_REQUIRE) but unavailable: %v", backend, err)
			}
			skipped = append(skipped, fmt.Sprintf("%s (%v)", backend, err))
			continue
		}
		ran = append(ran, backend)
	}
	t.Logf("conformance suite engines on %s: %s", runtime.GOOS, strings.Join(ran, ", "))
	if len(skipped) > 0 {
		t.Logf("engines skipped: %s", strings.Join(skipped, "; "))
	}
	if !slices.Contains(ran, "std") {
		t.Error("the portable engine must always run")
	}
}

// startClient starts a client service of app connecting n sessions to
// target with cfg, which names its backend. Cleanup stops it and checks
// the app.
func startClient(t testing.TB, app *testApp, cfg Config, target string, n int) *Service {
	t.Helper()
	cl, err := NewClientService(target, n, cfg)
	if err != nil {
		t.Fatalf("NewClientService: %v", err)
	}
	if cl.Backend() != cfg.Backend {
		t.Fatalf("client runs on %q, want %q", cl.Backend(), cfg.Backend)
	}
	t.Cleanup(func() { stopService(t, cl); app.check(t, true) })
	ctx, cancel := context.WithTimeout(context.Background(), testkit.WaitLong)
	defer cancel()
	if err := cl.Start(ctx); err != nil {
		t.Fatalf("client Start: %v", err)
	}
	return cl
}

// ---------------------------------------------------------------------------
// Connect/disconnect cycles

// cycleApp is a light server application for the cycles test: it keeps no
// session once it disconnected, counts the callbacks, checks their order
// and tallies the disconnect causes.
type cycleApp struct {
	connected, disconnected atomic.Int64

	mu         sync.Mutex
	causes     map[string]int
	violations []string
}

// cycleQuit is the packet id on which the server disconnects the session
// itself (the server closes first).
const cycleQuit = 0xdead

type cycleSession struct {
	app   *cycleApp
	inCb  atomic.Bool
	state atomic.Int32
}

func (a *cycleApp) causesNow() map[string]int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return maps.Clone(a.causes)
}

func (a *cycleApp) violate(format string, args ...any) {
	a.mu.Lock()
	if len(a.violations) < 20 {
		a.violations = append(a.violations, fmt.Sprintf(format, args...))
	}
	a.mu.Unlock()
}

func (cs *cycleSession) enter(name string, want int32) {
	if !cs.inCb.CompareAndSwap(false, true) {
		cs.app.violate("%s ran while another callback of the session was running", name)
	}
	if st := cs.state.Load(); st != want {
		cs.app.violate("%s in state %d, want %d", name, st, want)
	}
}

func (cs *cycleSession) OnConnected(*Session) {
	cs.enter("OnConnected", stateNew)
	cs.state.Store(stateOpen)
	cs.app.connected.Add(1)
	cs.inCb.Store(false)
}

func (cs *cycleSession) OnRecvPacket(s *Session, id uint16, payload []byte) {
	cs.enter("OnRecvPacket", stateOpen)
	defer cs.inCb.Store(false)
	if id == cycleQuit {
		s.Disconnect(nil)
		return
	}
	s.SendPacket(id, payload)
}

func (cs *cycleSession) OnSend(*Session, int) {
	cs.enter("OnSend", stateOpen)
	cs.inCb.Store(false)
}

func (cs *cycleSession) OnDisconnected(_ *Session, cause error) {
	cs.enter("OnDisconnected", stateOpen)
	cs.state.Store(stateDone)
	var kind string
	switch {
	case errors.Is(cause, ErrPeerClosed):
		kind = "peer closed"
	case testkit.IsReset(cause):
		kind = "reset"
	case errors.Is(cause, ErrDisconnected):
		kind = "server disconnect"
	case errors.Is(cause, ErrServiceClosed):
		kind = "service closed"
	default:
		kind = fmt.Sprint(cause)
	}
	cs.app.mu.Lock()
	cs.app.causes[kind]++
	cs.app.mu.Unlock()
	cs.app.disconnected.Add(1)
	cs.inCb.Store(false)
}

// dumpSessions describes the sessions svc still holds, with their engine
// connections and sockets, for the message of a test that failed. It reads
// engine state another goroutine owns: under -race it may add a report of
// its own.
func dumpSessions(svc *Service) string {
	svc.mu.RLock()
	defer svc.mu.RUnlock()
	var b strings.Builder
	for s := range svc.sessions {
		fmt.Fprintf(&b, "\n\tsession %d, state %#x, conn %+v; %s", s.id, s.state.Load(), s.conn(), connDiag(s.conn()))
	}
	return b.String()
}

// cycleCount is how many cycles TestConnectDisconnectCycles runs per engine:
// 20 000 by default on Linux (7 to 25 s per engine under -race on two
// cores), 2 000 with -short, and 2 000 elsewhere, where half of them would
// leave an ephemeral port in TIME_WAIT for minutes.
func cycleCount() int {
	if testing.Short() || runtime.GOOS != "linux" {
		return 2000
	}
	return 20000
}

// TestConnectDisconnectCycles connects and disconnects 20 000 times against
// one server, 8 clients at a time, in four ways in turn: a close right
// after connecting (maybe before the server accepted), an echo then a
// close, a reset in the middle of a packet, and a packet on which the
// server disconnects first. Every connection must become a session that
// connects and disconnects exactly once with an expected cause (on Linux;
// elsewhere a connection reset before it was accepted may never become
// one); once they are all gone the server holds no more descriptors than
// before the cycles (no fd growth), and after Stop no goroutine or
// descriptor is left.
func TestConnectDisconnectCycles(t *testing.T) {
	testkit.ForEachBackend(t, func(t *testing.T, backend string) {
		check := testkit.LeakCheck(t)
		cycles := cycleCount()
		const workers = 8
		app := &cycleApp{causes: make(map[string]int)}
		var logs syncBuffer
		cfg := Config{
			Logger:           slog.New(slog.NewTextHandler(&logs, nil)),
			Backend:          backend,
			NewPacketSession: func() PacketHandler { return &cycleSession{app: app} },
			MaxSessions:      workers * 64, // far above what is ever alive at once
		}
		svc := startServer(t, nil, cfg)
		addr := svc.Addr().String()

		// cycle runs connection i; it returns an error only for what is
		// wrong on the client's side.
		payload := testkit.Payload(3, 100)
		cycle := func(i int, buf []byte) error {
			nc, err := net.DialTimeout("tcp", addr, testkit.WaitShort)
			if err != nil {
				return fmt.Errorf("cycle %d: dial: %w", i, err)
			}
			c := nc.(*net.TCPConn)
			defer c.Close()
			c.SetDeadline(time.Now().Add(testkit.WaitLong))
			switch i % 4 {
			case 0: // close at once
			case 1: // echo, then close
				msg := testkit.AppendPacket(buf[:0], uint16(i), payload)
				if _, err := c.Write(msg); err != nil {
					return fmt.Errorf("cycle %d: write: %w", i, err)
				}
				back := buf[len(msg) : 2*len(msg)]
				if _, err := io.ReadFull(c, back); err != nil {
					return fmt.Errorf("cycle %d: reading the echo: %w", i, err)
				}
				if !bytes.Equal(back, msg) {
					return fmt.Errorf("cycle %d: echo corrupted", i)
				}
			case 2: // reset in the middle of a packet
				msg := testkit.AppendPacket(buf[:0], uint16(i), payload)
				if _, err := c.Write(msg[:10]); err != nil {
					return fmt.Errorf("cycle %d: write: %w", i, err)
				}
				c.SetLinger(0)
			case 3: // the server disconnects first
				if _, err := c.Write(testkit.AppendPacket(buf[:0], cycleQuit, nil)); err != nil {
					return fmt.Errorf("cycle %d: write: %w", i, err)
				}
				if n, err := c.Read(buf[:1]); n != 0 || errors.Is(err, os.ErrDeadlineExceeded) {
					return fmt.Errorf("cycle %d: the server did not close the connection: read %d, %v", i, n, err)
				}
			}
			return nil
		}

		// Warm up, so that what the server and the runtime create once
		// (engine loops, pools, netpoll) is there before the count.
		buf := make([]byte, 1024)
		for i := range 64 {
			if err := cycle(i, buf); err != nil {
				t.Fatal(err)
			}
		}
		// Every connection becomes a session on Linux. Elsewhere one reset
		// before the server accepted it may be dropped by the stack or fail
		// the accept, so only the others (all but i%4 == 2) are counted on.
		allAccepted := runtime.GOOS == "linux"
		drained := func(n int64) func() bool {
			return func() bool {
				c, st := app.connected.Load(), svc.Stats()
				if c != app.disconnected.Load() || st.Sessions != 0 || uint64(c) != st.Accepted {
					return false
				}
				if allAccepted {
					return c == n
				}
				return c >= n-(n+1)/4
			}
		}
		if !testkit.WaitUntil(testkit.WaitLong, drained(64)) {
			t.Fatalf("64 warm-up cycles done, but after %v %d sessions connected, %d disconnected (causes %v), Stats %+v; sessions left: %s",
				testkit.WaitLong, app.connected.Load(), app.disconnected.Load(), app.causesNow(), svc.Stats(), dumpSessions(svc))
		}
		fdsBefore := testkit.FdCount()

		began := time.Now()
		deadline := began.Add(2 * time.Minute)
		var next atomic.Int64
		next.Store(64)
		last := int64(64 + cycles)
		errs := make(chan error, workers)
		var wg sync.WaitGroup
		for range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				buf := make([]byte, 1024)
				for {
					i := next.Add(1) - 1
					if i >= last {
						return
					}
					if time.Now().After(deadline) {
						errs <- fmt.Errorf("only %d of %d cycles done in %v", i-64, cycles, time.Since(began))
						return
					}
					if err := cycle(int(i), buf); err != nil {
						errs <- err
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		if t.Failed() {
			return
		}
		took := time.Since(began)
		if !testkit.WaitUntil(testkit.WaitLong, drained(last)) {
			t.Fatalf("%d cycles done, but after %v %d sessions connected, %d disconnected (causes %v), Stats %+v; sessions left: %s",
				cycles, testkit.WaitLong, app.connected.Load(), app.disconnected.Load(), app.causesNow(), svc.Stats(), dumpSessions(svc))
		}
		t.Logf("%d cycles in %v (8 clients at a time); causes %v", cycles, took.Round(time.Millisecond), app.causes)

		app.mu.Lock()
		for _, v := range app.violations {
			t.Errorf("callback guarantee violated: %s", v)
		}
		for kind, n := range app.causes {
			switch kind {
			case "peer closed", "reset", "server disconnect":
			default:
				t.Errorf("%d sessions ended with an unexpected cause: %s", n, kind)
			}
		}
		if n := app.causes["server disconnect"]; n != int(last/4) {
			t.Errorf("%d sessions ended by the server's Disconnect, want %d", n, last/4)
		}
		app.mu.Unlock()
		st := svc.Stats()
		switch {
		case allAccepted && (st.Accepted != uint64(last) || st.Refused != 0 || st.AcceptErrors != 0):
			t.Errorf("Stats %+v, want Accepted %d, none refused or failed; log:\n%.2000s", st, last, logs.String())
		case st.Refused != 0:
			t.Errorf("Stats %+v, want none refused", st)
		case st.Accepted != uint64(last):
			t.Logf("%d of %d connections accepted, %d accepts failed; log:\n%.600s", st.Accepted, last, st.AcceptErrors, logs.String())
		}

		// No descriptor growth while the server runs on.
		if fdsBefore >= 0 {
			if now := testkit.SettleFdCount(fdsBefore); now > fdsBefore {
				t.Errorf("descriptors grew from %d to %d over %d cycles", fdsBefore, now, cycles)
			}
		}
		stopService(t, svc)
		check()
	})
}

// ---------------------------------------------------------------------------
// Engine choice

// syncBuffer is a bytes.Buffer safe for a logger and the test at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// TestAutoFallsBackWithoutUring forces the io_uring probe to fail, as a
// container's seccomp profile or kernel.io_uring_disabled would: "auto" must
// then run on std, say why in one log line, and serve (server and client);
// "uring" must fail with ErrBackendUnavailable and the probe's reason, from
// both constructors, without starting anything.
func TestAutoFallsBackWithoutUring(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skipf("auto picks io_uring only on Linux, not on %s", runtime.GOOS)
	}
	t.Setenv("SERVERCORE_URING", "off")
	probe := port.ProbeUring()
	if probe == nil {
		t.Fatal("ProbeUring passes with SERVERCORE_URING=off")
	}
	check := testkit.LeakCheck(t)

	var logs syncBuffer
	app := newTestApp()
	cfg := app.configFor("auto")
	cfg.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	svc := startServer(t, app, cfg)
	if svc.Backend() != "std" {
		t.Fatalf("auto with io_uring unavailable runs on %q, want std", svc.Backend())
	}
	out := logs.String()
	if lines := strings.Count(strings.TrimSpace(out), "\n") + 1; lines != 1 || !strings.Contains(out, "backend=std") || !strings.Contains(out, probe.Error()) {
		t.Errorf("auto's log says %q; want one line naming std and the probe's reason %q", out, probe)
	}
	c := testkit.Dial(t, svc.Addr())
	for i := range 10 {
		c.Echo(uint16(i), testkit.Payload(i, 1000*i))
	}

	capp := newTestApp()
	capp.record = true
	capp.onPacket = func(*testSession, uint16, []byte) {}
	auto, err := NewClientService(svc.Addr().String(), 3, capp.configFor("auto"))
	if err != nil {
		t.Fatalf("NewClientService with auto: %v", err)
	}
	if auto.Backend() != "std" {
		t.Fatalf("auto client with io_uring unavailable runs on %q, want std", auto.Backend())
	}
	if err := auto.Start(context.Background()); err != nil {
		t.Fatalf("auto client Start: %v", err)
	}
	for _, ts := range capp.all() {
		if err := ts.s.SendPacket(1, []byte("auto")); err != nil {
			t.Fatal(err)
		}
		testkit.WaitFor(t, testkit.WaitLong, "the echo to the auto client", func() bool { return ts.packets.Load() == 1 })
	}
	stopService(t, auto)
	capp.check(t, true)

	for _, mk := range []struct {
		name string
		f    func(Config) (*Service, error)
	}{
		{"server", func(c Config) (*Service, error) { return NewServerService("127.0.0.1:0", c) }},
		{"client", func(c Config) (*Service, error) { return NewClientService(svc.Addr().String(), 1, c) }},
	} {
		s, err := mk.f(app.configFor("uring"))
		if !errors.Is(err, ErrBackendUnavailable) {
			t.Errorf("%s with backend uring and io_uring unavailable: %v, %v; want ErrBackendUnavailable", mk.name, s, err)
		} else if !strings.Contains(err.Error(), probe.Error()) {
			t.Errorf("%s: error %q does not say why (%q)", mk.name, err, probe)
		}
	}
	c.Close()
	stopService(t, svc)
	check()
}

// TestUringUnavailableAtStart: a uring service made while io_uring was
// available whose engine can no longer start (the probe fails at Start)
// returns ErrBackendUnavailable from Start, leaks nothing, and can still be
// stopped.
func TestUringUnavailableAtStart(t *testing.T) {
	if err := port.ProbeUring(); err != nil {
		t.Skipf("io_uring unavailable here: %v", err)
	}
	check := testkit.LeakCheck(t)
	app := newTestApp()
	svc, err := NewServerService("127.0.0.1:0", app.configFor("uring"))
	if err != nil {
		t.Fatal(err)
	}
	cl, err := NewClientService("127.0.0.1:1", 1, app.configFor("uring"))
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("SERVERCORE_URING", "off")
	for _, s := range []*Service{svc, cl} {
		if err := s.Start(context.Background()); !errors.Is(err, ErrBackendUnavailable) {
			t.Errorf("Start of a uring service with io_uring gone: %v, want ErrBackendUnavailable", err)
		}
		stopService(t, s)
	}
	check()
}

// ---------------------------------------------------------------------------
// Client sessions

// sendAndAwait sends count packets on every session of app, packet i with
// a payload of i*step bytes, and waits until each session has received at
// least want packets.
func sendAndAwait(t testing.TB, app *testApp, count, step int, want int64) {
	t.Helper()
	for _, ts := range app.all() {
		for i := range count {
			if err := ts.s.SendPacket(uint16(i), testkit.Payload(i, step*i)); err != nil {
				t.Fatal(err)
			}
		}
	}
	testkit.WaitFor(t, testkit.WaitLong, fmt.Sprintf("%d packets on every session", want), func() bool {
		for _, ts := range app.all() {
			if ts.packets.Load() < want {
				return false
			}
		}
		return true
	})
}

// TestIOThreads runs echo traffic on servers and clients whose engines have
// one I/O thread and more threads than this machine has cores: every
// session's packets come back, whatever the engine makes of the setting.
func TestIOThreads(t *testing.T) {
	testkit.ForEachBackend(t, func(t *testing.T, backend string) {
		for _, threads := range []int{1, runtime.NumCPU() + 1} {
			t.Run(fmt.Sprint(threads), func(t *testing.T) {
				const n = 12
				srv := newTestApp()
				cfg := srv.configFor(backend)
				cfg.IOThreads = threads
				svc := startServer(t, srv, cfg)
				capp := newTestApp()
				ccfg := capp.configFor(backend)
				ccfg.IOThreads = threads
				startClient(t, capp, ccfg, svc.Addr().String(), n)
				if got := len(capp.all()); got != n {
					t.Fatalf("%d client sessions, want %d", got, n)
				}
				sendAndAwait(t, capp, 10, 16, 10)
			})
		}
	})
}

// TestClientStopBusy stops a client service while its sessions play
// ping-pong with an echo server as fast as they can: Stop returns, every
// client session ends once with ErrServiceClosed, every server session ends
// with the peer's close or reset, and no goroutine or descriptor is left.
func TestClientStopBusy(t *testing.T) {
	testkit.ForEachBackend(t, func(t *testing.T, backend string) {
		check := testkit.LeakCheck(t)
		const n, inflight = 16, 4
		srv := newTestApp()
		svc := startServer(t, srv, srv.configFor(backend))
		capp := newTestApp()
		capp.onPacket = func(ts *testSession, id uint16, payload []byte) {
			ts.s.SendPacket(id, payload) // and the server echoes it back
		}
		cl := startClient(t, capp, capp.configFor(backend), svc.Addr().String(), n)
		sendAndAwait(t, capp, inflight, 64, 100)
		stopService(t, cl)
		if c, d := capp.connected.Load(), capp.disconnected.Load(); c != n || d != n {
			t.Fatalf("after Stop: %d client sessions connected, %d disconnected, want %d each", c, d, n)
		}
		for _, ts := range capp.all() {
			if !errors.Is(ts.cause, ErrServiceClosed) {
				t.Errorf("client session %d: cause %v, want ErrServiceClosed", ts.id, ts.cause)
			}
		}
		capp.check(t, true)
		testkit.WaitFor(t, testkit.WaitLong, "the server sessions to end", func() bool { return srv.disconnected.Load() == n })
		for _, ts := range srv.all() {
			if !errors.Is(ts.cause, ErrPeerClosed) && !testkit.IsReset(ts.cause) && !errors.Is(ts.cause, syscall.EPIPE) {
				t.Errorf("server session %d: cause %v, want the client's close", ts.id, ts.cause)
			}
		}
		if st := cl.Stats(); st.Sessions != 0 {
			t.Errorf("client Stats().Sessions = %d after Stop", st.Sessions)
		}
		stopService(t, svc)
		check()
	})
}

// ---------------------------------------------------------------------------
// Large packets

// TestLargePacketsPipelined: several clients at once each write a stream of
// packets up to the wire maximum (65535 bytes) mixed with small ones, in
// large writes, while reading the echoes only after a pause. The server's
// receives then span many of an engine's receive buffers (4 KiB each for
// io_uring) and may run them out, and its sends are partial; every packet
// must come back whole, in order.
func TestLargePacketsPipelined(t *testing.T) {
	testkit.ForEachBackend(t, func(t *testing.T, backend string) {
		const clients, rounds = 4, 3
		sizes := []int{MaxPacketSize - HeaderSize, 0, 17, 4092, 4093, MaxPacketSize - HeaderSize - 1, 3, 8188, 32768, 1}
		app := newTestApp()
		cfg := app.configFor(backend)
		// Above everything a client sends, so that the echoes queued while
		// the client does not read never hit the limit.
		cfg.SendQueueLimit = 16 << 20
		svc := startServer(t, app, cfg)

		errs := make(chan error, 2*clients)
		var wg sync.WaitGroup
		total := 0
		for c := range clients {
			cc := testkit.Dial(t, svc.Addr())
			var stream []byte
			var want []packet
			for r := range rounds {
				for k, n := range sizes {
					p := packet{uint16(r*len(sizes) + k), testkit.Payload(c*100+r*len(sizes)+k, n)}
					want = append(want, p)
					stream = testkit.AppendPacket(stream, p.id, p.payload)
				}
			}
			total += len(want)
			wg.Add(2)
			go func() { // the whole stream in writes of 256 KiB
				defer wg.Done()
				for off := 0; off < len(stream); off += 256 << 10 {
					if err := cc.TimedWrite(stream[off:min(off+256<<10, len(stream))]); err != nil {
						errs <- fmt.Errorf("client %d: write: %w", c, err)
						return
					}
				}
			}()
			go func() {
				defer wg.Done()
				time.Sleep(100 * time.Millisecond) // let the server's sends back up
				buf := make([]byte, MaxPacketSize)
				for i, p := range want {
					id, got, err := cc.ReadPacket(testkit.WaitLong, buf)
					if err != nil {
						errs <- fmt.Errorf("client %d: reading packet %d: %w", c, i, err)
						return
					}
					if id != p.id || !bytes.Equal(got, p.payload) {
						errs <- fmt.Errorf("client %d: packet %d is id %d with %d bytes, want id %d with %d bytes (or the bytes differ)", c, i, id, len(got), p.id, len(p.payload))
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		if st := svc.Stats(); st.PacketsIn != uint64(total) {
			t.Errorf("Stats().PacketsIn = %d, want %d", st.PacketsIn, total)
		}
		for _, ts := range app.all() {
			if !ts.s.Connected() {
				t.Errorf("session %d disconnected: %v", ts.id, ts.cause)
			}
		}
	})
}

// TestManyClientsFlood: many clients at once each push a stream of packets
// of mixed sizes as fast as the server takes them while reading the echoes.
// The handler stalls for a few milliseconds now and then, so that data
// piles up on many connections while the loop is away: when it comes back,
// that runs an engine's shared receive memory out (io_uring's
// provided-buffer ring: its multishot receives end with ENOBUFS and must be
// re-armed). Every packet must still come back whole and in order, and no
// session may be cut.
func TestManyClientsFlood(t *testing.T) {
	testkit.ForEachBackend(t, func(t *testing.T, backend string) {
		const clients, perClient = 32, 96
		app := newTestApp()
		app.onPacket = func(ts *testSession, id uint16, payload []byte) {
			if id%32 == 7 {
				time.Sleep(5 * time.Millisecond) // a loop busy elsewhere
			}
			ts.s.SendPacket(id, payload)
		}
		cfg := app.configFor(backend)
		cfg.SendQueueLimit = 16 << 20 // above a client's whole stream
		svc := startServer(t, app, cfg)
		errs := make(chan error, 2*clients)
		var wg sync.WaitGroup
		for c := range clients {
			cc := testkit.Dial(t, svc.Addr())
			var stream []byte
			var want []packet
			for i := range perClient {
				n := (c*7919 + i*104729) % 6000
				if i%16 == 5 {
					n = 20000 + c*100
				}
				p := packet{uint16(i), testkit.Payload(c*1000+i, n)}
				want = append(want, p)
				stream = testkit.AppendPacket(stream, p.id, p.payload)
			}
			wg.Add(2)
			go func() {
				defer wg.Done()
				if err := cc.TimedWrite(stream); err != nil {
					errs <- fmt.Errorf("client %d: write: %w", c, err)
				}
			}()
			go func() {
				defer wg.Done()
				buf := make([]byte, MaxPacketSize)
				for i, p := range want {
					id, got, err := cc.ReadPacket(testkit.WaitLong, buf)
					if err != nil {
						errs <- fmt.Errorf("client %d: reading packet %d: %w", c, i, err)
						return
					}
					if id != p.id || !bytes.Equal(got, p.payload) {
						errs <- fmt.Errorf("client %d: packet %d is id %d with %d bytes, want id %d with %d bytes (or the bytes differ)", c, i, id, len(got), p.id, len(p.payload))
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		if st := svc.Stats(); st.PacketsIn != clients*perClient || st.Sessions != clients {
			t.Errorf("Stats %+v, want PacketsIn %d and Sessions %d", st, clients*perClient, clients)
		}
	})
}

// ---------------------------------------------------------------------------
// Idle timeout under connection churn

// churnApp echoes and records when and why sessions cut by the idle timeout
// ended, by the peer's address.
type churnApp struct {
	mu   sync.Mutex
	cuts []churnCut
	// cutFirst counts sessions already disconnecting when OnConnected ran:
	// nothing but the idle checker disconnects in this test.
	cutFirst atomic.Int64
}

type churnCut struct {
	remote string
	at     time.Time // OnConnected if the session was cut before, else OnDisconnected
}

type churnSession struct {
	BaseHandler
	app      *churnApp
	remote   string
	cutFirst time.Time // when OnConnected found the session disconnecting
}

func (cs *churnSession) OnConnected(s *Session) {
	cs.remote = fmt.Sprint(s.RemoteAddr())
	if !s.Connected() {
		cs.cutFirst = time.Now()
		cs.app.cutFirst.Add(1)
	}
}

func (cs *churnSession) OnRecvPacket(s *Session, id uint16, payload []byte) {
	s.SendPacket(id, payload)
}

func (cs *churnSession) OnDisconnected(s *Session, cause error) {
	if errors.Is(cause, ErrIdleTimeout) {
		at := time.Now()
		if !cs.cutFirst.IsZero() {
			at = cs.cutFirst
		}
		cs.app.mu.Lock()
		cs.app.cuts = append(cs.app.cuts, churnCut{cs.remote, at})
		cs.app.mu.Unlock()
	}
}

// TestIdleTimeoutNotEarlyUnderChurn: on a server that has been up for longer
// than its idle timeout, clients connect, echo one packet and leave, many at
// a time, for a few seconds. No session may be cut by the idle timeout
// before it was silent for the timeout (less one check interval of slack),
// let alone before its OnConnected: a session just admitted, whose idle
// clock is not yet set, must not look idle to the checker.
func TestIdleTimeoutNotEarlyUnderChurn(t *testing.T) {
	testkit.ForEachBackend(t, func(t *testing.T, backend string) {
		const timeout = 8 * time.Millisecond // checked every millisecond
		const workers = 8
		duration := 3 * time.Second
		if testing.Short() {
			duration = time.Second
		}
		app := &churnApp{}
		svc := startServer(t, nil, Config{
			Backend:          backend,
			NewPacketSession: func() PacketHandler { return &churnSession{app: app} },
			IdleTimeout:      timeout,
		})
		time.Sleep(10 * timeout) // the service has been up longer than the timeout
		addr := svc.Addr().String()

		var mu sync.Mutex
		starts := map[string][]time.Time{} // by client address: when each dial began
		var cycles atomic.Int64
		end := time.Now().Add(duration)
		var wg sync.WaitGroup
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				msg := testkit.AppendPacket(nil, uint16(w), []byte("churn"))
				back := make([]byte, len(msg))
				for time.Now().Before(end) {
					began := time.Now()
					nc, err := net.DialTimeout("tcp", addr, testkit.WaitShort)
					if err != nil {
						continue
					}
					mu.Lock()
					key := nc.LocalAddr().String()
					starts[key] = append(starts[key], began)
					mu.Unlock()
					nc.SetDeadline(time.Now().Add(testkit.WaitShort))
					nc.Write(msg) // may fail: the session may be cut (that is what is checked)
					io.ReadFull(nc, back)
					nc.Close()
					cycles.Add(1)
				}
			}()
		}
		wg.Wait()
		testkit.WaitFor(t, testkit.WaitLong, "every session to end", func() bool { return svc.Stats().Sessions == 0 })

		app.mu.Lock()
		defer app.mu.Unlock()
		early := 0
		for _, c := range app.cuts {
			mu.Lock()
			var began time.Time // the last dial from that address before the cut
			for _, b := range starts[c.remote] {
				if b.Before(c.at) && b.After(began) {
					began = b
				}
			}
			mu.Unlock()
			if began.IsZero() {
				continue
			}
			// By design a cut comes after at least timeout - one interval
			// of silence; half the timeout leaves room for scheduling.
			if silent := c.at.Sub(began); silent < timeout/2 {
				if early < 5 {
					t.Errorf("session of %s cut by the idle timeout %v after its client began to dial (IdleTimeout %v)", c.remote, silent, timeout)
				}
				early++
			}
		}
		t.Logf("%d connections, %d cut by the idle timeout, %d of them early; %d cut before their OnConnected", cycles.Load(), len(app.cuts), early, app.cutFirst.Load())
		if early > 0 {
			t.Errorf("%d of %d sessions were cut by the idle timeout before they could have been idle", early, cycles.Load())
		}

	})
}

// ---------------------------------------------------------------------------
// Addresses

// addrApp records a session's addresses as each callback sees them.
type addrApp struct {
	mu   sync.Mutex
	seen map[string][]string // callback name -> "local remote" per call
	done chan struct{}
}

type addrSession struct {
	BaseHandler
	app *addrApp
}

func (as *addrSession) record(name string, s *Session) {
	as.app.mu.Lock()
	as.app.seen[name] = append(as.app.seen[name], fmt.Sprintf("%v %v", s.LocalAddr(), s.RemoteAddr()))
	as.app.mu.Unlock()
}

func (as *addrSession) OnConnected(s *Session) { as.record("OnConnected", s) }
func (as *addrSession) OnRecvPacket(s *Session, id uint16, payload []byte) {
	as.record("OnRecvPacket", s)
	s.SendPacket(id, payload)
}
func (as *addrSession) OnDisconnected(s *Session, _ error) {
	as.record("OnDisconnected", s)
	as.app.done <- struct{}{}
}

// TestSessionAddresses: a session's LocalAddr and RemoteAddr are its
// connection's, in every callback, OnDisconnected included (where a server
// logs who left), whether the peer closed cleanly or reset the connection,
// and from another goroutine while the session ends; for server and client
// sessions.
func TestSessionAddresses(t *testing.T) {
	testkit.ForEachBackend(t, func(t *testing.T, backend string) {
		for _, how := range []string{"close", "reset", "local"} {
			t.Run(how, func(t *testing.T) {
				srv := &addrApp{seen: map[string][]string{}, done: make(chan struct{}, 1)}
				svc := startServer(t, nil, Config{
					Backend:          backend,
					NewPacketSession: func() PacketHandler { return &addrSession{app: srv} },
				})
				c := testkit.Dial(t, svc.Addr())
				c.Echo(1, []byte("who"))
				want := fmt.Sprintf("%v %v", c.RemoteAddr(), c.LocalAddr())
				// Another goroutine asks for the addresses meanwhile.
				var ss *Session
				testkit.WaitFor(t, testkit.WaitLong, "the server session", func() bool {
					svc.mu.RLock()
					defer svc.mu.RUnlock()
					for s := range svc.sessions {
						ss = s
					}
					return ss != nil
				})
				stop, asked := make(chan struct{}), make(chan string, 1)
				go func() {
					bad := ""
					for {
						if got := fmt.Sprintf("%v %v", ss.LocalAddr(), ss.RemoteAddr()); got != want && bad == "" {
							bad = got
						}
						select {
						case <-stop:
							asked <- bad
							return
						default:
						}
					}
				}()
				switch how {
				case "close":
					c.Close()
				case "reset":
					c.Conn.(*net.TCPConn).SetLinger(0)
					c.Close()
				case "local":
					stopService(t, svc)
				}
				testkit.Recv(t, srv.done, testkit.WaitLong, "OnDisconnected")
				time.Sleep(time.Millisecond)
				close(stop)
				if bad := <-asked; bad != "" {
					t.Errorf("server session from another goroutine: LocalAddr RemoteAddr = %s, want %s", bad, want)
				}
				srv.mu.Lock()
				defer srv.mu.Unlock()
				for _, cb := range []string{"OnConnected", "OnRecvPacket", "OnDisconnected"} {
					for _, got := range srv.seen[cb] {
						if got != want {
							t.Errorf("server session in %s: LocalAddr RemoteAddr = %s, want %s", cb, got, want)
						}
					}
				}
			})
		}
		t.Run("client", func(t *testing.T) {
			srv := newTestApp()
			svc := startServer(t, srv, srv.configFor(backend))
			capp := &addrApp{seen: map[string][]string{}, done: make(chan struct{}, 1)}
			cl, err := NewClientService(svc.Addr().String(), 1, Config{
				Backend:          backend,
				NewPacketSession: func() PacketHandler { return &addrSession{app: capp} },
			})
			if err != nil {
				t.Fatal(err)
			}
			if err := cl.Start(context.Background()); err != nil {
				t.Fatal(err)
			}
			testkit.WaitFor(t, testkit.WaitLong, "the server session", func() bool { return len(srv.all()) == 1 })
			ss := srv.all()[0].s
			want := fmt.Sprintf("%v %v", ss.RemoteAddr(), ss.LocalAddr())
			ss.Disconnect(nil) // the server ends it: the client sees the peer close
			testkit.Recv(t, capp.done, testkit.WaitLong, "the client's OnDisconnected")
			stopService(t, cl)
			capp.mu.Lock()
			defer capp.mu.Unlock()
			for _, cb := range []string{"OnConnected", "OnDisconnected"} {
				for _, got := range capp.seen[cb] {
					if got != want {
						t.Errorf("client session in %s: LocalAddr RemoteAddr = %s, want %s", cb, got, want)
					}
				}
			}
		})
	})
}
