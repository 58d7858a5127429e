package servercore

// A session's end: writing its last words before it closes
// (DisconnectAfterSends), being cut when they take too long, and handler
// panics that end only their own session.

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"servercore/internal/testkit"
)

// TestDisconnectAfterSendsWritesEverything: a session told to end after its
// sends writes every packet queued before, then closes with the cause it
// was given; Send in between returns ErrSessionClosed.
func TestDisconnectAfterSendsWritesEverything(t *testing.T) {
	testkit.ForEachBackend(t, func(t *testing.T, backend string) {
		forEachSendInterval(t, func(t *testing.T, interval time.Duration) {
			app := newTestApp()
			cfg := app.configFor(backend)
			cfg.SendInterval = interval
			svc := startServer(t, app, cfg)
			c, ts := app.connect(t, svc)

			const n = 300 // about 300 KiB: more than one write takes
			for i := range n {
				if err := ts.s.SendPacket(uint16(i), testkit.Payload(i, 1000)); err != nil {
					t.Fatalf("SendPacket %d: %v", i, err)
				}
			}
			kicked := errors.New("kicked: cheating")
			ts.s.DisconnectAfterSends(kicked, testkit.WaitLong)
			if err := ts.s.SendPacket(9999, nil); !errors.Is(err, ErrSessionClosed) {
				t.Fatalf("SendPacket while draining: %v, want ErrSessionClosed", err)
			}
			if ts.s.Connected() {
				t.Errorf("Connected() while draining")
			}
			for i := range n {
				c.Expect(uint16(i), testkit.Payload(i, 1000))
			}
			c.ExpectClosed(testkit.WaitLong)
			if cause := ts.waitDisconnected(t, testkit.WaitLong); cause != kicked {
				t.Fatalf("cause %v, want %v", cause, kicked)
			}
		})
	})
}

// TestDisconnectAfterSendsNothingQueued: with nothing to write, the session
// disconnects at once with the cause.
func TestDisconnectAfterSendsNothingQueued(t *testing.T) {
	testkit.ForEachBackend(t, func(t *testing.T, backend string) {
		app := newTestApp()
		svc := startServer(t, app, app.configFor(backend))
		c, ts := app.connect(t, svc)
		bye := errors.New("bye")
		ts.s.DisconnectAfterSends(bye, 0)
		c.ExpectClosed(testkit.WaitLong)
		if cause := ts.waitDisconnected(t, testkit.WaitLong); cause != bye {
			t.Fatalf("cause %v, want %v", cause, bye)
		}
	})
}

// TestDisconnectAfterSendsTimeout: a peer that never reads holds the last
// sends back; at the timeout the session is cut with ErrSendTimeout
// wrapping its own cause, and a healthy session is unaffected.
func TestDisconnectAfterSendsTimeout(t *testing.T) {
	testkit.ForEachBackend(t, func(t *testing.T, backend string) {
		app := newTestApp()
		cfg := app.configFor(backend)
		cfg.SendQueueLimit = 64 << 20
		svc := startServer(t, app, cfg)
		healthy, _ := app.connect(t, svc)
		_, ts := app.stuckReader(t, svc)
		kicked := errors.New("kicked")
		ts.s.DisconnectAfterSends(kicked, 100*time.Millisecond)
		cause := ts.waitDisconnected(t, testkit.WaitLong)
		if !errors.Is(cause, ErrSendTimeout) || !errors.Is(cause, kicked) {
			t.Fatalf("cause %v, want ErrSendTimeout wrapping %v", cause, kicked)
		}
		healthy.Echo(2, []byte("still here"))
		if got := svc.Stats().Disconnects.SendTimeout; got != 1 {
			t.Errorf("Stats().Disconnects.SendTimeout = %d, want 1", got)
		}
	})
}

// TestStopDrains: a goodbye broadcast queued right before Stop reaches
// every client before its connection closes, on every engine.
func TestStopDrains(t *testing.T) {
	testkit.ForEachBackend(t, func(t *testing.T, backend string) {
		forEachSendInterval(t, func(t *testing.T, interval time.Duration) {
			app := newTestApp()
			cfg := app.configFor(backend)
			cfg.SendInterval = interval
			svc := startServer(t, app, cfg)
			const clients = 100
			conns := make([]*testkit.Client, clients)
			for i := range conns {
				conns[i] = testkit.Dial(t, svc.Addr())
				conns[i].Echo(1, nil)
			}
			goodbye := NewPacket(77, bytes.Repeat([]byte("bye"), 300))
			if n := svc.Broadcast(goodbye); n != clients {
				t.Fatalf("Broadcast queued %d, want %d", n, clients)
			}
			goodbye.Release()
			stopService(t, svc)
			for i, c := range conns {
				id, payload, err := c.ReadPacket(testkit.WaitLong, nil)
				if err != nil || id != 77 || len(payload) != 900 {
					t.Fatalf("client %d: got id %d, %d bytes, %v; want the goodbye", i, id, len(payload), err)
				}
				c.ExpectClosed(testkit.WaitLong)
			}
			for _, ts := range app.all() {
				if !errors.Is(ts.cause, ErrServiceClosed) {
					t.Errorf("session %d: cause %v, want ErrServiceClosed", ts.id, ts.cause)
				}
			}
		})
	})
}

// TestStopCutsAtDeadline: Stop waits for the sessions' last writes until its
// context ends, then cuts them with ErrSendTimeout and ErrServiceClosed.
func TestStopCutsAtDeadline(t *testing.T) {
	testkit.ForEachBackend(t, func(t *testing.T, backend string) {
		check := testkit.LeakCheck(t)
		app := newTestApp()
		cfg := app.configFor(backend)
		cfg.SendQueueLimit = 64 << 20
		svc := startServer(t, app, cfg)
		stuck, ts := app.stuckReader(t, svc)
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		if err := svc.Stop(ctx); err == nil {
			t.Fatalf("Stop returned nil while a session could not write, want its context's error")
		}
		cause := ts.waitDisconnected(t, testkit.WaitLong)
		if !errors.Is(cause, ErrSendTimeout) || !errors.Is(cause, ErrServiceClosed) {
			t.Fatalf("cause %v, want ErrSendTimeout wrapping ErrServiceClosed", cause)
		}
		stopService(t, svc)
		stuck.Close()
		check()
	})
}

// TestHandlerPanicEndsOnlyItsSession: a handler that panics is recovered:
// its session ends with a *PanicError carrying the value and the stack, it
// is counted, and every other session goes on.
func TestHandlerPanicEndsOnlyItsSession(t *testing.T) {
	for _, callback := range []string{"OnConnected", "OnRecvPacket", "OnSend", "OnDisconnected"} {
		t.Run(callback, func(t *testing.T) {
			testkit.ForEachBackend(t, func(t *testing.T, backend string) {
				app := newTestApp()
				boom := errors.New("boom")
				var victim atomic.Int64
				h := func(s *Session) {
					if s.ID() == uint64(victim.Load()) {
						panic(boom)
					}
				}
				var pa panicApp
				pa.app, pa.callback, pa.hit = app, callback, h
				cfg := app.configFor(backend)
				cfg.NoRecover = false
				cfg.NewPacketSession = pa.newSession
				svc := startServer(t, app, cfg)
				healthy := testkit.Dial(t, svc.Addr())
				healthy.Echo(1, nil)
				hs := app.session(t, healthy)
				victim.Store(int64(hs.id) + 1) // the next session
				bad := testkit.Dial(t, svc.Addr())
				switch callback {
				case "OnRecvPacket":
					bad.Echo(1, nil)
					bad.Send(2, nil) // panics on this one
				case "OnSend", "OnDisconnected":
					bad.Echo(1, nil) // OnSend panics after this reply's write
				}
				bs := app.session(t, bad)
				if callback == "OnDisconnected" {
					bs.s.Disconnect(nil)
				}
				cause := bs.waitDisconnected(t, testkit.WaitLong)
				var perr *PanicError
				if callback != "OnDisconnected" {
					if !errors.As(cause, &perr) || !errors.Is(cause, ErrHandlerPanic) || !errors.Is(cause, boom) {
						t.Fatalf("cause %v, want a *PanicError matching ErrHandlerPanic and the panic's error", cause)
					}
					if perr.Callback != callback || !strings.Contains(string(perr.Stack), "panicSession") {
						t.Errorf("PanicError{Callback %q, stack %d bytes}, want %q and the stack of the handler", perr.Callback, len(perr.Stack), callback)
					}
				}
				// A panic in OnDisconnected comes after the session ended
				// with its own cause: counted as a panic, not as its end.
				wantEnded := uint64(1)
				if callback == "OnDisconnected" {
					wantEnded = 0
				}
				testkit.WaitFor(t, testkit.WaitLong, "the panic counted", func() bool {
					st := svc.Stats()
					return st.HandlerPanics == 1 && st.Disconnects.Panic+st.Disconnects.Local == 1
				})
				if got := svc.Stats().Disconnects.Panic; got != wantEnded {
					t.Errorf("Disconnects.Panic = %d, want %d", got, wantEnded)
				}
				healthy.Echo(3, []byte("unaffected"))
			})
		})
	}
}

// panicApp is testApp's handler with a panic in one callback of the
// session hit chooses.
type panicApp struct {
	app      *testApp
	callback string
	hit      func(*Session)
}

func (p *panicApp) newSession() PacketHandler {
	return &panicSession{p: p, testSession: p.app.newPacketSession().(*testSession)}
}

type panicSession struct {
	*testSession
	p *panicApp
}

func (ps *panicSession) OnConnected(s *Session) {
	ps.testSession.OnConnected(s)
	if ps.p.callback == "OnConnected" {
		ps.p.hit(s)
	}
}

func (ps *panicSession) OnRecvPacket(s *Session, id uint16, payload []byte) {
	ps.testSession.OnRecvPacket(s, id, payload)
	if ps.p.callback == "OnRecvPacket" && id == 2 {
		ps.p.hit(s)
	}
}

func (ps *panicSession) OnSend(s *Session, n int) {
	ps.testSession.OnSend(s, n)
	if ps.p.callback == "OnSend" {
		ps.p.hit(s)
	}
}

func (ps *panicSession) OnDisconnected(s *Session, cause error) {
	ps.testSession.OnDisconnected(s, cause)
	if ps.p.callback == "OnDisconnected" {
		ps.p.hit(s)
	}
}

// TestNoRecoverCrashes: with Config.NoRecover a handler's panic takes the
// process down, as its user asked. The crash runs in a child process.
func TestNoRecoverCrashes(t *testing.T) {
	if os.Getenv("SERVERCORE_TEST_CRASH") == "1" {
		app := newTestApp()
		app.onPacket = func(*testSession, uint16, []byte) { panic("deliberate crash") }
		cfg := app.config()
		cfg.NoRecover = true
		svc := startServer(t, app, cfg)
		c := testkit.Dial(t, svc.Addr())
		c.Send(1, nil)
		time.Sleep(testkit.WaitLong)
		t.Fatal("the process survived a panic with NoRecover")
	}
	cmd := exec.Command(os.Args[0], "-test.run", "^TestNoRecoverCrashes$")
	cmd.Env = append(os.Environ(), "SERVERCORE_TEST_CRASH=1")
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || !bytes.Contains(out, []byte("panic: deliberate crash")) {
		t.Fatalf("child: %v, want a crash with the handler's panic; output:\n%s", err, out)
	}
}

// TestSendPacketTooLarge: a payload that cannot fit a packet is an error,
// not a panic, and the session goes on.
func TestSendPacketTooLarge(t *testing.T) {
	testkit.ForEachBackend(t, func(t *testing.T, backend string) {
		app := newTestApp()
		svc := startServer(t, app, app.configFor(backend))
		c, ts := app.connect(t, svc)
		if err := ts.s.SendPacket(5, make([]byte, MaxPacketSize-HeaderSize+1)); !errors.Is(err, ErrPacketTooLarge) {
			t.Fatalf("SendPacket of %d bytes: %v, want ErrPacketTooLarge", MaxPacketSize-HeaderSize+1, err)
		}
		if err := ts.s.SendPacket(6, make([]byte, MaxPacketSize-HeaderSize)); err != nil {
			t.Fatalf("SendPacket of the largest payload: %v", err)
		}
		c.Expect(6, make([]byte, MaxPacketSize-HeaderSize))
		c.Echo(2, []byte("still connected"))
	})
}
