package servercore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"servercore/internal/port"
	"servercore/internal/testkit"
)

// ---------------------------------------------------------------------------
// Configuration

func TestConfigValidation(t *testing.T) {
	pkt := func() PacketHandler { return &testSession{} }
	raw := func() Handler { return &rawHandler{} }
	uringOK, iocpOK := port.ProbeUring() == nil, port.ProbeIOCP() == nil
	tests := []struct {
		name    string
		cfg     Config
		backend bool // the error wraps ErrBackendUnavailable
		ok      bool
	}{
		{name: "no factory", cfg: Config{}},
		{name: "both factories", cfg: Config{NewSession: raw, NewPacketSession: pkt}},
		{name: "packet defaults", cfg: Config{NewPacketSession: pkt}, ok: true},
		{name: "raw defaults", cfg: Config{NewSession: raw}, ok: true},
		{name: "std", cfg: Config{NewPacketSession: pkt, Backend: "std"}, ok: true},
		{name: "auto", cfg: Config{NewPacketSession: pkt, Backend: "auto"}, ok: true},
		{name: "negative MaxSessions", cfg: Config{NewPacketSession: pkt, MaxSessions: -1}},
		{name: "MaxPacketSize below the header", cfg: Config{NewPacketSession: pkt, MaxPacketSize: 3}},
		{name: "MaxPacketSize at the header", cfg: Config{NewPacketSession: pkt, MaxPacketSize: 4}, ok: true},
		{name: "MaxPacketSize above the wire", cfg: Config{NewPacketSession: pkt, MaxPacketSize: 65536}},
		{name: "negative MaxPacketSize", cfg: Config{NewPacketSession: pkt, MaxPacketSize: -1}},
		{name: "negative SendQueueLimit", cfg: Config{NewPacketSession: pkt, SendQueueLimit: -1}},
		{name: "negative IdleTimeout disables it", cfg: Config{NewPacketSession: pkt, IdleTimeout: -time.Second}, ok: true},
		{name: "negative RecvBufferSize", cfg: Config{NewPacketSession: pkt, RecvBufferSize: -1}},
		{name: "negative SendInterval", cfg: Config{NewPacketSession: pkt, SendInterval: -time.Millisecond}},
		{name: "SendInterval", cfg: Config{NewPacketSession: pkt, SendInterval: time.Millisecond}, ok: true},
		{name: "negative IOThreads", cfg: Config{NewPacketSession: pkt, IOThreads: -1}},
		{name: "one I/O thread", cfg: Config{NewPacketSession: pkt, IOThreads: 1}, ok: true},
		{name: "unknown backend", cfg: Config{NewPacketSession: pkt, Backend: "epoll"}, backend: true},
		{name: "uring", cfg: Config{NewPacketSession: pkt, Backend: "uring"}, ok: uringOK, backend: !uringOK},
		{name: "iocp", cfg: Config{NewPacketSession: pkt, Backend: "iocp"}, ok: iocpOK, backend: !iocpOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, mk := range []func() (*Service, error){
				func() (*Service, error) { return NewServerService("127.0.0.1:0", tt.cfg) },
				func() (*Service, error) { return NewClientService("127.0.0.1:1", 0, tt.cfg) },
			} {
				svc, err := mk()
				switch {
				case tt.ok && err != nil:
					t.Fatalf("unexpected error %v", err)
				case tt.ok:
					if svc.Backend() == "" {
						t.Errorf("Backend() is empty")
					}
				case err == nil:
					t.Fatalf("no error")
				case tt.backend != errors.Is(err, ErrBackendUnavailable):
					t.Fatalf("error %v: wraps ErrBackendUnavailable = %v, want %v", err, !tt.backend, tt.backend)
				}
			}
		})
	}
	if _, err := NewClientService("127.0.0.1:1", -1, Config{NewPacketSession: pkt}); err == nil {
		t.Error("NewClientService with a negative count: no error")
	}
}

func TestConfigDefaults(t *testing.T) {
	svc, err := NewServerService("127.0.0.1:0", Config{NewPacketSession: func() PacketHandler { return &testSession{} }})
	if err != nil {
		t.Fatal(err)
	}
	c := svc.cfg
	if c.MaxSessions != DefaultMaxSessions || c.MaxPacketSize != MaxPacketSize || c.SendQueueLimit != DefaultSendQueueLimit ||
		c.RecvBufferSize != DefaultRecvBufferSize || c.IdleTimeout != DefaultIdleTimeout || c.Logger == nil || c.Backend != "auto" {
		t.Fatalf("defaults not applied: %+v", c)
	}
	// auto: IOCP where it runs, else io_uring where it runs (off Windows),
	// else std.
	want := "std"
	switch {
	case port.ProbeIOCP() == nil:
		want = "iocp"
	case runtime.GOOS != "windows" && port.ProbeUring() == nil:
		want = "uring"
	}
	if svc.Backend() != want {
		t.Fatalf("auto picked %q, want %q (IOCP probe: %v; io_uring probe: %v)", svc.Backend(), want, port.ProbeIOCP(), port.ProbeUring())
	}
}

// ---------------------------------------------------------------------------
// Lifecycle

func TestServiceLifecycleErrors(t *testing.T) {
	testkit.ForEachBackend(t, func(t *testing.T, backend string) {
		app := newTestApp()
		svc := startServer(t, app, app.configFor(backend))
		if err := svc.Start(context.Background()); err == nil {
			t.Error("a second Start: no error")
		}
		if _, err := svc.Connect(context.Background()); err == nil {
			t.Error("Connect on a server service: no error")
		}
		if a, ok := svc.Addr().(*net.TCPAddr); !ok || a.Port == 0 {
			t.Errorf("Addr() = %v, want the bound port", svc.Addr())
		}
		stopService(t, svc)
		stopService(t, svc) // Stop twice
		if err := svc.Start(context.Background()); !errors.Is(err, ErrServiceClosed) {
			t.Errorf("Start after Stop: %v, want ErrServiceClosed", err)
		}
		if c, err := net.DialTimeout("tcp", svc.Addr().String(), testkit.WaitShort); err == nil {
			c.SetReadDeadline(time.Now().Add(testkit.WaitShort))
			if _, err := c.Read(make([]byte, 1)); err == nil {
				t.Error("a stopped server still serves")
			}
			c.Close()
		}

		// Stop before Start, then Start.
		idle, err := NewServerService("127.0.0.1:0", app.configFor(backend))
		if err != nil {
			t.Fatal(err)
		}
		stopService(t, idle)
		if err := idle.Start(context.Background()); !errors.Is(err, ErrServiceClosed) {
			t.Errorf("Start after Stop: %v", err)
		}
	})
}

func TestListenError(t *testing.T) {
	testkit.ForEachBackend(t, func(t *testing.T, backend string) {
		check := testkit.LeakCheck(t)
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		app := newTestApp()
		cfg := app.configFor(backend)
		cfg.IdleTimeout = time.Second
		svc, err := NewServerService(ln.Addr().String(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		if err := svc.Start(context.Background()); err == nil {
			t.Fatal("Start on a port in use: no error")
		}
		stopService(t, svc)
		ln.Close()
		check()
	})
}

// TestStartStopConcurrent: Stop racing Start (say, a signal arriving while
// the server starts) must neither race on the service's fields nor leave
// the listener open, and must return.
func TestStartStopConcurrent(t *testing.T) {
	testkit.ForEachBackend(t, func(t *testing.T, backend string) {
		check := testkit.LeakCheck(t)
		app := newTestApp()
		cfg := app.configFor(backend)
		cfg.IdleTimeout = time.Second
		for i := range 200 {
			svc, err := NewServerService("127.0.0.1:0", cfg)
			if err != nil {
				t.Fatal(err)
			}
			started := make(chan error, 1)
			go func() { started <- svc.Start(context.Background()) }()
			time.Sleep(time.Duration(rand.IntN(100)) * time.Microsecond)
			stopped := make(chan error, 1)
			go func() {
				ctx, cancel := context.WithTimeout(context.Background(), testkit.WaitShort)
				defer cancel()
				stopped <- svc.Stop(ctx)
			}()
			select {
			case err := <-stopped:
				if err != nil {
					t.Fatalf("round %d: Stop racing Start: %v", i, err)
				}
			case <-time.After(testkit.WaitLong):
				t.Fatalf("round %d: Stop racing Start did not return within %v (its context was %v): "+
					"the listener Start opened after Stop looked is never closed, and Stop waits for its accept loop", i, testkit.WaitLong, testkit.WaitShort)
			}
			if err := <-started; err != nil && !errors.Is(err, ErrServiceClosed) {
				t.Fatalf("Start racing Stop: %v", err)
			}
			if c, err := net.DialTimeout("tcp", svc.Addr().String(), testkit.WaitShort); err == nil {
				c.SetReadDeadline(time.Now().Add(testkit.WaitShort))
				_, rerr := c.Read(make([]byte, 1))
				c.Close()
				if rerr == nil || errors.Is(rerr, os.ErrDeadlineExceeded) {
					t.Fatalf("round %d: a service stopped during Start still accepts connections", i)
				}
			}
		}
		check()
	})
}

// TestStopContextExpires: Stop returns its context's error when sessions
// take longer to end, and a second Stop waits for the rest.
func TestStopContextExpires(t *testing.T) {
	testkit.ForEachBackend(t, func(t *testing.T, backend string) {
		app := newTestApp()
		release := make(chan struct{})
		app.onDisconnected = func(*testSession, error) { <-release }
		svc := startServer(t, app, app.configFor(backend))
		c := testkit.Dial(t, svc.Addr())
		c.Echo(1, nil)
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		if err := svc.Stop(ctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Stop with a blocked OnDisconnected: %v, want DeadlineExceeded", err)
		}
		close(release)
		stopService(t, svc)
		if app.disconnected.Load() != 1 {
			t.Fatalf("%d OnDisconnected after the second Stop", app.disconnected.Load())
		}
	})
}

// ---------------------------------------------------------------------------
// Session semantics

func TestSendAfterDisconnect(t *testing.T) {
	testkit.ForEachBackend(t, func(t *testing.T, backend string) {
		app := newTestApp()
		svc := startServer(t, app, app.configFor(backend))
		c := testkit.Dial(t, svc.Addr())
		c.Echo(1, []byte("x"))
		ts := app.session(t, c)
		s := ts.s

		b := OpenSendBuffer(10)
		if err := s.Send(b); !errors.Is(err, ErrNotSealed) {
			t.Errorf("Send of an unsealed buffer: %v, want ErrNotSealed", err)
		}
		if got := b.refs.Load(); got != 1 {
			t.Errorf("a refused Send kept a reference: refs %d", got)
		}
		b.Seal(0)
		b.Release()

		// Eight goroutines disconnect at once: the cause is that of the
		// Disconnect that came first, so one of theirs, and no later call
		// changes it.
		causes := make([]error, 8)
		for i := range causes {
			causes[i] = fmt.Errorf("cause %d", i)
		}
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range causes {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				s.Disconnect(causes[i])
			}()
		}
		close(start)
		wg.Wait()
		late := errors.New("late cause")
		s.Disconnect(late)
		if s.Connected() {
			t.Error("Connected() after Disconnect")
		}
		p := NewPacket(1, []byte("late"))
		if err := s.Send(p); !errors.Is(err, ErrSessionClosed) {
			t.Errorf("Send after Disconnect: %v, want ErrSessionClosed", err)
		}
		if err := s.SendPacket(1, nil); !errors.Is(err, ErrSessionClosed) {
			t.Errorf("SendPacket after Disconnect: %v, want ErrSessionClosed", err)
		}
		cause := ts.waitDisconnected(t, testkit.WaitLong)
		if !slices.ContainsFunc(causes, func(c error) bool { return errors.Is(cause, c) }) {
			t.Errorf("cause %v, want that of the first Disconnect, one of %v", cause, causes)
		}
		if err := s.Send(p); !errors.Is(err, ErrSessionClosed) {
			t.Errorf("Send after OnDisconnected: %v, want ErrSessionClosed", err)
		}
		s.Disconnect(nil) // after OnDisconnected: still a no-op
		if got := p.refs.Load(); got != 1 {
			t.Errorf("refs %d after refused sends, want 1", got)
		}
		p.Release()
		c.ExpectClosed(testkit.WaitLong)
		if d := app.disconnected.Load(); d != 1 {
			t.Errorf("%d OnDisconnected calls, want 1", d)
		}
	})
}

// TestSendEmptyAfterDisconnect: Send after disconnect returns an error; an
// empty sealed buffer is no exception.
func TestSendEmptyAfterDisconnect(t *testing.T) {
	testkit.ForEachBackend(t, func(t *testing.T, backend string) {
		app := newTestApp()
		svc := startServer(t, app, app.configFor(backend))
		c := testkit.Dial(t, svc.Addr())
		c.Echo(1, nil)
		ts := app.session(t, c)
		ts.s.Disconnect(nil)
		b := OpenSendBuffer(0)
		b.Seal(0)
		defer b.Release()
		if err := ts.s.Send(b); !errors.Is(err, ErrSessionClosed) {
			t.Errorf("Send of an empty buffer after Disconnect: %v, want ErrSessionClosed", err)
		}
	})
}

// TestDisconnectFromCallbacks disconnects from inside each callback.
func TestDisconnectFromCallbacks(t *testing.T) {
	testkit.ForEachBackend(t, func(t *testing.T, backend string) {
		for _, where := range []string{"OnConnected", "OnRecvPacket", "OnSend"} {
			t.Run(where, func(t *testing.T) {
				app := newTestApp()
				sentOnce := atomic.Bool{}
				switch where {
				case "OnConnected":
					app.onConnected = func(ts *testSession) { ts.s.Disconnect(errors.New(where)) }
				case "OnRecvPacket":
					app.onPacket = func(ts *testSession, _ uint16, _ []byte) { ts.s.Disconnect(errors.New(where)) }
				case "OnSend":
					app.onPacket = func(ts *testSession, id uint16, p []byte) {
						ts.s.SendPacket(id, p)
						sentOnce.Store(true)
					}
				}
				svc := startServer(t, app, app.configFor(backend))
				c := testkit.Dial(t, svc.Addr())
				c.Send(1, []byte("x"))
				if where == "OnSend" {
					c.Expect(1, []byte("x"))
					ts := app.session(t, c)
					testkit.WaitFor(t, testkit.WaitLong, "OnSend", func() bool { return ts.sent.Load() > 0 })
					ts.s.Disconnect(errors.New(where))
				}
				c.ExpectClosed(testkit.WaitLong)
				testkit.WaitFor(t, testkit.WaitLong, "OnDisconnected", func() bool { return app.disconnected.Load() == 1 })
				ts := app.all()[0]
				if cause := ts.waitDisconnected(t, testkit.WaitShort); cause == nil || cause.Error() != where {
					t.Fatalf("cause %v, want %q", cause, where)
				}
			})
		}
	})
}

// TestCallbacksNeverOverlap hammers sessions with traffic from clients,
// Sends from foreign goroutines and OnSend callbacks at once; the testApp's
// handlers flag any overlapping or out-of-order callback.
func TestCallbacksNeverOverlap(t *testing.T) {
	testkit.ForEachBackend(t, func(t *testing.T, backend string) {
		app := newTestApp()
		svc := startServer(t, app, app.configFor(backend))
		const clients = 8
		var cs []*testkit.Client
		for range clients {
			c := testkit.Dial(t, svc.Addr())
			cs = append(cs, c)
			go io.Copy(io.Discard, c)
		}
		testkit.WaitFor(t, testkit.WaitLong, "connections", func() bool { return app.connected.Load() == clients })
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for _, ts := range app.all() {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range 1000 { // bounded: the clients read, so no queue limit is hit
					select {
					case <-stop:
						return
					default:
					}
					if err := ts.s.SendPacket(9, []byte("from outside")); err != nil {
						t.Errorf("SendPacket from outside: %v", err)
						return
					}
				}
			}()
		}
		for i := range 200 {
			for _, c := range cs {
				c.MustWrite(testkit.AppendPacket(testkit.AppendPacket(nil, 1, testkit.Payload(i, 10)), 2, nil))
			}
		}
		close(stop)
		wg.Wait()
		for _, c := range cs {
			c.Close()
		}
		testkit.WaitFor(t, testkit.WaitLong, "every session to end", func() bool { return app.disconnected.Load() == clients })
		app.check(t, true)
	})
}

// ---------------------------------------------------------------------------
// Raw sessions

type rawHandler struct {
	onRecv func(s *Session, data []byte) int
	cause  chan error
}

func (h *rawHandler) OnConnected(*Session) {}
func (h *rawHandler) OnSend(*Session, int) {}
func (h *rawHandler) OnRecv(s *Session, data []byte) int {
	return h.onRecv(s, data)
}
func (h *rawHandler) OnDisconnected(_ *Session, cause error) { h.cause <- cause }

func TestRawSession(t *testing.T) {
	testkit.ForEachBackend(t, func(t *testing.T, backend string) {
		causes := make(chan error, 10)
		var mode atomic.Value
		mode.Store("echo")
		newRaw := func() Handler {
			return &rawHandler{cause: causes, onRecv: func(s *Session, data []byte) int {
				switch mode.Load().(string) {
				case "hoard":
					return 0
				case "overrun":
					return len(data) + 1
				case "negative":
					return -1
				}
				// echo whole lines only
				i := strings.LastIndexByte(string(data), '\n')
				if i < 0 {
					return 0
				}
				b := OpenSendBuffer(i + 1)
				copy(b.Buffer(), data[:i+1])
				b.Seal(i + 1)
				s.Send(b)
				b.Release()
				return i + 1
			}}
		}
		cfg := Config{NewSession: newRaw, Backend: backend, RecvBufferSize: 16, MaxPacketSize: 16}
		svc := startServer(t, nil, cfg)

		c := testkit.Dial(t, svc.Addr())
		c.MustWrite([]byte("hel"))
		time.Sleep(5 * time.Millisecond)
		c.MustWrite([]byte("lo\nwor"))
		time.Sleep(5 * time.Millisecond)
		c.MustWrite([]byte("ld\n"))
		got := make([]byte, 12)
		c.SetReadDeadline(time.Now().Add(testkit.WaitLong))
		if _, err := io.ReadFull(c, got); err != nil || string(got) != "hello\nworld\n" {
			t.Fatalf("raw echo: %q %v", got, err)
		}
		c.Close()
		if cause := testkit.Recv(t, causes, testkit.WaitLong, "OnDisconnected"); !errors.Is(cause, ErrPeerClosed) {
			t.Fatalf("cause %v, want ErrPeerClosed", cause)
		}

		for _, m := range []string{"hoard", "overrun", "negative"} {
			t.Run(m, func(t *testing.T) {
				mode.Store(m)
				c := testkit.Dial(t, svc.Addr())
				go c.TimedWrite(make([]byte, 200)) // more than the 32-byte buffer limit
				c.ExpectClosed(testkit.WaitLong)
				if cause := testkit.Recv(t, causes, testkit.WaitLong, "OnDisconnected"); !errors.Is(cause, ErrRecvOverflow) {
					t.Fatalf("cause %v, want ErrRecvOverflow", cause)
				}
			})
		}
	})
}

// ---------------------------------------------------------------------------
// Idle timeout

// TestIdleTimeout: a silent client is cut with ErrIdleTimeout within about
// 1.25 times the timeout; an active one is not.
func TestIdleTimeout(t *testing.T) {
	testkit.ForEachBackend(t, func(t *testing.T, backend string) {
		const timeout = 400 * time.Millisecond
		app := newTestApp()
		cfg := app.configFor(backend)
		cfg.IdleTimeout = timeout
		svc := startServer(t, app, cfg)
		active := testkit.Dial(t, svc.Addr())
		active.Echo(1, nil)
		start := time.Now()
		silent := testkit.Dial(t, svc.Addr())
		ss := app.session(t, silent)
		for !ss.closed() && time.Since(start) < 5*timeout {
			active.Echo(2, []byte("keepalive"))
			time.Sleep(timeout / 8)
		}
		cause := ss.waitDisconnected(t, testkit.WaitLong)
		took := time.Since(start)
		if !errors.Is(cause, ErrIdleTimeout) {
			t.Fatalf("silent client's cause %v, want ErrIdleTimeout", cause)
		}
		// 1.25×timeout is the documented bound; the rest is slack for a noisy
		// machine.
		if limit := timeout*5/4 + 2*time.Second; took > limit {
			t.Errorf("silent client cut after %v, want within %v", took, limit)
		}
		silent.ExpectClosed(testkit.WaitLong)
		// The active client lives on, well past the timeout.
		for time.Since(start) < 4*timeout {
			active.Echo(3, []byte("keepalive"))
			time.Sleep(timeout / 8)
		}
		if as := app.session(t, active); !as.s.Connected() {
			t.Fatalf("active client disconnected: %v", as.cause)
		}
	})
}

// TestIdleTimeoutNotEarly: a session must not be cut before it was silent
// for the whole IdleTimeout (Config: "checked every eighth of the timeout,
// so a session may live up to 1.25 times as long" — longer, not shorter).
// Several clients at staggered phases of the checker's tick.
func TestIdleTimeoutNotEarly(t *testing.T) {
	testkit.ForEachBackend(t, func(t *testing.T, backend string) {
		const timeout = 400 * time.Millisecond
		app := newTestApp()
		cfg := app.configFor(backend)
		cfg.IdleTimeout = timeout
		var mu sync.Mutex
		ended := map[uint64]time.Time{}
		app.onDisconnected = func(ts *testSession, _ error) {
			mu.Lock()
			ended[ts.id] = time.Now()
			mu.Unlock()
		}
		svc := startServer(t, app, cfg)
		type dialed struct {
			at time.Time
			ts *testSession
		}
		var ds []dialed
		for range 6 {
			at := time.Now()
			c := testkit.Dial(t, svc.Addr())
			ds = append(ds, dialed{at, app.session(t, c)})
			time.Sleep(timeout / 4 / 6)
		}
		for _, d := range ds {
			if cause := d.ts.waitDisconnected(t, testkit.WaitLong); !errors.Is(cause, ErrIdleTimeout) {
				t.Fatalf("cause %v", cause)
			}
			mu.Lock()
			silent := ended[d.ts.id].Sub(d.at)
			mu.Unlock()
			if silent < timeout {
				t.Errorf("session %d cut after only %v of silence (IdleTimeout %v)", d.ts.id, silent.Round(time.Millisecond), timeout)
			}
		}
	})
}

// TestIdleTimeoutClockStartsAtStart: a service started a while after it was
// made must not cut sessions that just connected and are active.
func TestIdleTimeoutClockStartsAtStart(t *testing.T) {
	testkit.ForEachBackend(t, func(t *testing.T, backend string) {
		const timeout = 400 * time.Millisecond
		app := newTestApp()
		cfg := app.configFor(backend)
		cfg.IdleTimeout = timeout
		svc, err := NewServerService("127.0.0.1:0", cfg)
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(timeout) // e.g. the program loads its world before Start
		if err := svc.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { stopService(t, svc); app.check(t, true) })
		c := testkit.Dial(t, svc.Addr())
		start := time.Now()
		for time.Since(start) < 2*timeout {
			c.Send(1, []byte("busy"))
			if _, _, err := c.ReadPacket(testkit.WaitLong, nil); err != nil {
				ts := app.session(t, c)
				t.Fatalf("an active client was cut %v after connecting (cause %v): the idle clock is stale at Start",
					time.Since(start).Round(time.Millisecond), ts.waitDisconnected(t, testkit.WaitShort))
			}
			time.Sleep(timeout / 10)
		}
	})
}

// ---------------------------------------------------------------------------
// Session limits

// TestMaxSessionsServer: the N+1th connection is closed at once and counted
// as refused; the N sessions keep working; once one leaves, a new one is
// accepted.
func TestMaxSessionsServer(t *testing.T) {
	testkit.ForEachBackend(t, func(t *testing.T, backend string) {
		const max = 3
		app := newTestApp()
		cfg := app.configFor(backend)
		cfg.MaxSessions = max
		svc := startServer(t, app, cfg)
		var cs []*testkit.Client
		for i := range max {
			c := testkit.Dial(t, svc.Addr())
			c.Echo(uint16(i), nil)
			cs = append(cs, c)
		}
		extra := testkit.Dial(t, svc.Addr())
		extra.TimedWrite(testkit.AppendPacket(nil, 9, []byte("let me in"))) // may fail: the server closes at once
		extra.ExpectClosed(testkit.WaitLong)
		st := svc.Stats()
		if st.Refused != 1 || st.Sessions != max || st.Accepted != max {
			t.Fatalf("Stats %+v, want Refused 1, Sessions %d, Accepted %d", st, max, max)
		}
		if app.connected.Load() != max {
			t.Fatalf("%d sessions connected, want %d", app.connected.Load(), max)
		}
		for i, c := range cs {
			c.Echo(uint16(i), []byte("still here"))
		}

		cs[0].Close()
		testkit.WaitFor(t, testkit.WaitLong, "the closed session to end", func() bool { return app.disconnected.Load() == 1 })
		// The slot frees when the session is released, just after its
		// OnDisconnected: retry while refused.
		refusedBefore := svc.Stats().Refused
		retries := 0
		for deadline := time.Now().Add(testkit.WaitLong); ; retries++ {
			c := testkit.Dial(t, svc.Addr())
			c.TimedWrite(testkit.AppendPacket(nil, 5, []byte("again")))
			if _, _, err := c.ReadPacket(testkit.WaitLong, nil); err == nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("no connection accepted after a session left")
			}
			time.Sleep(10 * time.Millisecond)
		}
		if got := svc.Stats().Refused - refusedBefore; got != uint64(retries) {
			t.Fatalf("Refused grew by %d over %d refused retries", got, retries)
		}
		if st := svc.Stats(); st.Sessions != max || st.Accepted != max+1 {
			t.Fatalf("Stats %+v, want Sessions %d, Accepted %d", st, max, max+1)
		}
	})
}

// TestMaxSessionsClient: Connect beyond the limit returns ErrMaxSessions.
func TestMaxSessionsClient(t *testing.T) {
	testkit.ForEachBackend(t, func(t *testing.T, backend string) {
		srv := newTestApp()
		svc := startServer(t, srv, srv.configFor(backend))
		capp := newTestApp()
		capp.onPacket = func(*testSession, uint16, []byte) {}
		cfg := capp.configFor(backend)
		cfg.MaxSessions = 2
		cl, err := NewClientService(svc.Addr().String(), 2, cfg)
		if err != nil {
			t.Fatal(err)
		}
		if err := cl.Start(context.Background()); err != nil {
			t.Fatalf("Start: %v", err)
		}
		t.Cleanup(func() { stopService(t, cl); capp.check(t, true) })
		if _, err := cl.Connect(context.Background()); !errors.Is(err, ErrMaxSessions) {
			t.Fatalf("Connect beyond the limit: %v, want ErrMaxSessions", err)
		}
		capp.all()[0].s.Disconnect(nil)
		var s *Session
		testkit.WaitFor(t, testkit.WaitLong, "a Connect to succeed after a session left", func() bool {
			s, err = cl.Connect(context.Background())
			if err != nil && !errors.Is(err, ErrMaxSessions) {
				t.Fatalf("Connect: %v", err)
			}
			return err == nil
		})
		if !s.Connected() {
			t.Fatal("Connect returned a session that is not connected")
		}
	})
}

// ---------------------------------------------------------------------------
// Client service

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func TestClientConnectRefused(t *testing.T) {
	testkit.ForEachBackend(t, func(t *testing.T, backend string) {
		check := testkit.LeakCheck(t)
		app := newTestApp()
		cl, err := NewClientService(freeAddr(t), 3, app.configFor(backend))
		if err != nil {
			t.Fatal(err)
		}
		err = cl.Start(context.Background())
		if !errors.Is(err, ErrConnect) {
			t.Fatalf("Start against a closed port: %v, want ErrConnect", err)
		}
		if _, err := cl.Connect(context.Background()); !errors.Is(err, ErrConnect) {
			t.Fatalf("Connect against a closed port: %v, want ErrConnect", err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := cl.Connect(ctx); err == nil {
			t.Fatal("Connect with a cancelled context: no error")
		}
		if app.connected.Load() != 0 || app.disconnected.Load() != 0 {
			t.Fatalf("callbacks ran for failed connects: %d OnConnected, %d OnDisconnected", app.connected.Load(), app.disconnected.Load())
		}
		stopService(t, cl)
		if _, err := cl.Connect(context.Background()); !errors.Is(err, ErrServiceClosed) {
			t.Fatalf("Connect after Stop: %v, want ErrServiceClosed", err)
		}
		app.check(t, true)
		check()
	})
}

// TestClientService connects N sessions to a server and exchanges packets.
func TestClientService(t *testing.T) {
	testkit.ForEachBackend(t, func(t *testing.T, backend string) {
		check := testkit.LeakCheck(t)
		const n = 10
		srv := newTestApp()
		svc := startServer(t, srv, srv.configFor(backend))
		capp := newTestApp()
		capp.record = true
		capp.onPacket = func(*testSession, uint16, []byte) {} // record only: echoing an echo loops
		cl, err := NewClientService(svc.Addr().String(), n, capp.configFor(backend))
		if err != nil {
			t.Fatal(err)
		}
		if err := cl.Start(context.Background()); err != nil {
			t.Fatalf("Start: %v", err)
		}
		if got := capp.connected.Load(); got != n {
			t.Fatalf("%d client sessions connected when Start returned, want %d", got, n)
		}
		testkit.WaitFor(t, testkit.WaitLong, "the server to see every client", func() bool { return srv.connected.Load() == n })
		for _, ts := range capp.all() {
			for i := range 5 {
				if err := ts.s.SendPacket(uint16(i), testkit.Payload(int(ts.id), i*100)); err != nil {
					t.Fatal(err)
				}
			}
		}
		for _, ts := range capp.all() {
			testkit.WaitFor(t, testkit.WaitLong, "the echoes", func() bool { return ts.packets.Load() == 5 })
			var want []packet
			for i := range 5 {
				want = append(want, packet{uint16(i), testkit.Payload(int(ts.id), i*100)})
			}
			samePackets(t, ts.received(), want)
		}
		ids := map[uint64]bool{}
		for _, ts := range capp.all() {
			if ids[ts.id] {
				t.Errorf("session id %d used twice", ts.id)
			}
			ids[ts.id] = true
			if ts.s.RemoteAddr().String() != svc.Addr().String() {
				t.Errorf("client session RemoteAddr %v, want the server's %v", ts.s.RemoteAddr(), svc.Addr())
			}
			if ts.s.Service() != cl {
				t.Errorf("Session.Service() is not its client service")
			}
		}
		if st := cl.Stats(); st.Sessions != n || st.PacketsIn != 5*n || st.PacketsOut != 5*n {
			t.Fatalf("client Stats %+v", st)
		}
		stopService(t, cl)
		for _, ts := range capp.all() {
			if !errors.Is(ts.cause, ErrServiceClosed) {
				t.Errorf("client session cause %v, want ErrServiceClosed", ts.cause)
			}
		}
		testkit.WaitFor(t, testkit.WaitLong, "the server sessions to end", func() bool { return srv.disconnected.Load() == n })
		for _, ts := range srv.all() {
			if !errors.Is(ts.cause, ErrPeerClosed) {
				t.Errorf("server session cause %v, want ErrPeerClosed", ts.cause)
			}
		}
		stopService(t, svc)
		capp.check(t, true)
		check()
	})
}

// TestClientStopWhileConnecting stops client services while their sessions
// are still connecting: Stop must return, and every session that connected
// must see OnDisconnected.
func TestClientStopWhileConnecting(t *testing.T) {
	testkit.ForEachBackend(t, func(t *testing.T, backend string) {
		check := testkit.LeakCheck(t)
		srv := newTestApp()
		svc := startServer(t, srv, srv.configFor(backend))
		for i := range 15 {
			capp := newTestApp()
			capp.onPacket = func(*testSession, uint16, []byte) {}
			cl, err := NewClientService(svc.Addr().String(), 40, capp.configFor(backend))
			if err != nil {
				t.Fatal(err)
			}
			started := make(chan error, 1)
			go func() { started <- cl.Start(context.Background()) }()
			time.Sleep(time.Duration(rand.IntN(3000)) * time.Microsecond)
			ctx, cancel := context.WithTimeout(context.Background(), testkit.WaitLong)
			err = cl.Stop(ctx)
			cancel()
			if err != nil {
				t.Fatalf("round %d: Stop while connecting: %v (%d connected, %d disconnected)",
					i, err, capp.connected.Load(), capp.disconnected.Load())
			}
			if err := testkit.Recv(t, started, testkit.WaitLong, "Start"); err != nil && !errors.Is(err, ErrServiceClosed) && !errors.Is(err, ErrConnect) {
				t.Fatalf("Start: %v", err)
			}
			capp.check(t, true)
		}
		stopService(t, svc)
		check()
	})
}

// ---------------------------------------------------------------------------
// Stop

// TestStopBusy stops a server while many clients flood it with echo
// traffic: Stop returns, every session's OnDisconnected ran exactly once
// with ErrServiceClosed (or the peer's close), and no goroutine or
// descriptor is left behind.
func TestStopBusy(t *testing.T) {
	testkit.ForEachBackend(t, func(t *testing.T, backend string) {
		check := testkit.LeakCheck(t)
		const clients = 30
		app := newTestApp()
		svc := startServer(t, app, app.configFor(backend))
		began := time.Now()
		var wg sync.WaitGroup
		var conns []*testkit.Client
		var echoed atomic.Int64
		for range clients {
			c := testkit.Dial(t, svc.Addr())
			conns = append(conns, c)
			wg.Add(1)
			go func() { // flood, keeping a window of batches in flight
				defer wg.Done()
				var batch []byte
				for i := range 16 {
					batch = testkit.AppendPacket(batch, uint16(i), testkit.Payload(i, 64))
				}
				back := make([]byte, len(batch))
				const window = 8
				for inflight := 0; ; inflight++ {
					if c.TimedWrite(batch) != nil {
						return
					}
					if inflight < window {
						continue
					}
					c.SetReadDeadline(time.Now().Add(testkit.WaitLong))
					n, err := io.ReadFull(c, back)
					echoed.Add(int64(n))
					if err != nil {
						return
					}
				}
			}()
		}
		testkit.WaitFor(t, testkit.WaitLong, "traffic on every session", func() bool {
			if app.connected.Load() < clients {
				return false
			}
			for _, ts := range app.all() {
				if ts.packets.Load() < 300 {
					return false
				}
			}
			return true
		})
		t.Logf("traffic on every session after %v", time.Since(began))
		began = time.Now()
		stopService(t, svc)
		t.Logf("Stop took %v", time.Since(began))
		if c, d := app.connected.Load(), app.disconnected.Load(); c != clients || d != clients {
			t.Fatalf("after Stop: %d connected, %d disconnected, want %d each", c, d, clients)
		}
		for _, ts := range app.all() {
			if !errors.Is(ts.cause, ErrServiceClosed) && !errors.Is(ts.cause, ErrPeerClosed) {
				t.Errorf("session %d: cause %v, want ErrServiceClosed", ts.id, ts.cause)
			}
		}
		app.check(t, true)
		for _, c := range conns {
			c.Close()
		}
		wg.Wait()
		if svc.Stats().Sessions != 0 {
			t.Errorf("Stats().Sessions = %d after Stop", svc.Stats().Sessions)
		}
		t.Logf("%d bytes echoed before Stop", echoed.Load())
		check()
	})
}

// TestConcurrentSendDisconnectStop: 20 goroutines spam Send and random
// Disconnects on the server's sessions while Stop runs; no panic, Stop
// returns, every OnDisconnected exactly once, nothing leaks.
func TestConcurrentSendDisconnectStop(t *testing.T) {
	testkit.ForEachBackend(t, func(t *testing.T, backend string) {
		check := testkit.LeakCheck(t)
		const clients, spammers = 30, 20
		app := newTestApp()
		app.onPacket = func(*testSession, uint16, []byte) {}
		svc := startServer(t, app, app.configFor(backend))
		var conns []*testkit.Client
		var drains sync.WaitGroup
		for range clients {
			c := testkit.Dial(t, svc.Addr())
			conns = append(conns, c)
			drains.Add(1)
			go func() { defer drains.Done(); io.Copy(io.Discard, c) }()
		}
		testkit.WaitFor(t, testkit.WaitLong, "every client to connect", func() bool { return app.connected.Load() == clients })
		sessions := app.all()
		shared := NewPacket(7, testkit.Payload(7, 512))
		var wg sync.WaitGroup
		errs := make(chan error, spammers)
		for g := range spammers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := rand.New(rand.NewPCG(uint64(g), 99))
				for i := 0; ; i++ {
					s := sessions[r.IntN(len(sessions))].s
					var err error
					switch r.IntN(20) {
					case 0:
						s.Disconnect(fmt.Errorf("spammer %d", g))
					case 1, 2, 3:
						err = s.Send(shared)
					case 4:
						b := NewPacket(8, nil)
						svc.Broadcast(b)
						b.Release()
					default:
						err = s.SendPacket(uint16(i), testkit.Payload(i, r.IntN(200)))
					}
					if err != nil && !errors.Is(err, ErrSessionClosed) && !errors.Is(err, ErrSendQueueFull) {
						errs <- fmt.Errorf("Send: %w", err)
						return
					}
					if i > 200 && app.disconnected.Load() == clients {
						return // every session is gone
					}
				}
			}()
		}
		time.Sleep(20 * time.Millisecond)
		stopService(t, svc)
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		app.check(t, true)
		if got := shared.refs.Load(); got != 1 {
			t.Errorf("the shared buffer has %d references after Stop, want 1", got)
		}
		shared.Release()
		for _, c := range conns {
			c.Close()
		}
		drains.Wait()
		check()
	})
}

// TestStats checks the counters across a session's life.
func TestStats(t *testing.T) {
	testkit.ForEachBackend(t, func(t *testing.T, backend string) {
		app := newTestApp()
		svc := startServer(t, app, app.configFor(backend))
		c := testkit.Dial(t, svc.Addr())
		for i := range 10 {
			c.Echo(uint16(i), make([]byte, 6))
		}
		ts := app.session(t, c)
		testkit.WaitFor(t, testkit.WaitLong, "OnSend of every echo", func() bool { return ts.sent.Load() == 100 })
		check := func(sessions int) {
			t.Helper()
			st := svc.Stats()
			if st.Sessions != sessions || st.Accepted != 1 || st.PacketsIn != 10 || st.PacketsOut != 10 || st.BytesIn != 100 || st.BytesOut != 100 {
				t.Fatalf("Stats %+v, want Sessions %d Accepted 1 PacketsIn/Out 10 BytesIn/Out 100", st, sessions)
			}
		}
		check(1)
		c.Close()
		ts.waitDisconnected(t, testkit.WaitLong)
		testkit.WaitFor(t, testkit.WaitLong, "the session to be released", func() bool { return svc.Stats().Sessions == 0 })
		check(0) // the counts of released sessions are kept
	})
}
