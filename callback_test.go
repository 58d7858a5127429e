package servercore

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"servercore/internal/testkit"
)

// TestStopInCallback: Stop called from a handler's callback returns
// ErrStopInCallback at once instead of waiting for itself; the service
// stops, its sessions write their last words, and a Stop from outside then
// waits for the end and leaks nothing.
func TestStopInCallback(t *testing.T) {
	testkit.ForEachBackend(t, func(t *testing.T, backend string) {
		check := testkit.LeakCheck(t)
		app := newTestApp()
		var svc *Service
		stopped := make(chan error, 1)
		app.onPacket = func(ts *testSession, id uint16, payload []byte) {
			if id == 99 {
				ts.s.SendPacket(100, []byte("bye"))
				stopped <- svc.Stop(context.Background())
				return
			}
			ts.s.SendPacket(id, payload)
		}
		svc = startServer(t, app, app.configFor(backend))
		other := testkit.Dial(t, svc.Addr())
		other.Echo(1, nil)
		c := testkit.Dial(t, svc.Addr())
		c.Echo(1, nil)
		c.Send(99, nil)
		if err := testkit.Recv(t, stopped, testkit.WaitLong, "Stop's return in the callback"); !errors.Is(err, ErrStopInCallback) {
			t.Fatalf("Stop in a callback: %v, want ErrStopInCallback", err)
		}
		c.Expect(100, []byte("bye"))
		c.ExpectClosed(testkit.WaitLong)
		other.ExpectClosed(testkit.WaitLong)
		stopService(t, svc)
		app.check(t, true)
		c.Close()
		other.Close()
		check()
	})
}

// TestSlowCallbackCounted: a callback that runs longer than
// Config.SlowCallback is counted each time and logged once per session,
// naming the handler.
func TestSlowCallbackCounted(t *testing.T) {
	testkit.ForEachBackend(t, func(t *testing.T, backend string) {
		app := newTestApp()
		app.onPacket = func(ts *testSession, id uint16, payload []byte) {
			if id == 9 {
				time.Sleep(120 * time.Millisecond)
			}
			ts.s.SendPacket(id, payload)
		}
		var logs syncBuffer
		cfg := app.configFor(backend)
		cfg.SlowCallback = 40 * time.Millisecond
		cfg.Logger = slog.New(slog.NewTextHandler(&logs, nil))
		svc := startServer(t, app, cfg)
		c := testkit.Dial(t, svc.Addr())
		c.Echo(1, nil)
		c.Echo(9, nil)
		c.Echo(9, nil)
		c.Echo(2, nil)
		testkit.WaitFor(t, testkit.WaitLong, "two slow callbacks counted", func() bool { return svc.Stats().SlowCallbacks >= 2 })
		out := logs.String()
		if n := strings.Count(out, "ran longer than Config.SlowCallback"); n != 1 || !strings.Contains(out, "handler=*servercore.testSession") || !strings.Contains(out, "callback=OnRecvPacket") {
			t.Fatalf("%d slow-callback lines, want 1 naming the handler and the callback; log:\n%s", n, out)
		}
	})
}

// TestStdSlowOnConnectedDoesNotBlockAccepts: on the portable engine a
// session's OnConnected runs on its connection's goroutine, so one that
// blocks delays no other connection. (On uring it holds up its loop, on
// iocp a worker: see Config.SlowCallback.)
func TestStdSlowOnConnectedDoesNotBlockAccepts(t *testing.T) {
	app := newTestApp()
	release := make(chan struct{})
	var once sync.Once
	app.onConnected = func(*testSession) {
		first := false
		once.Do(func() { first = true })
		if first {
			<-release
		}
	}
	svc := startServer(t, app, app.configFor("std"))
	defer close(release)
	blocked := testkit.Dial(t, svc.Addr())
	testkit.WaitFor(t, testkit.WaitLong, "the first OnConnected", func() bool { return app.connected.Load() == 1 })
	c := testkit.Dial(t, svc.Addr())
	c.Echo(1, []byte("not held up"))
	_ = blocked
}
